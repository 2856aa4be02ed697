// Transpiles src/**/*.ts to dist/ with esbuild (one file per module, no bundling) and builds the dashboard page (web/ -> web/dist) with vite; type-checking is `npm run typecheck`.
import { build } from "esbuild";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) && !name.endsWith(".d.ts")) yield p;
  }
}

const root = new URL("..", import.meta.url).pathname;
// dist/ is overwritten in place, not deleted first: concurrent builds (tests, helpers) never see it vanish.
const entryPoints = [...walk(join(root, "src"))];
await build({
  entryPoints,
  outdir: join(root, "dist"),
  outbase: join(root, "src"),
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "inline",
  logLevel: "warning",
});

// The dashboard page: vite (rolldown) bundles web/ into web/dist, which the server serves. Offline, no plugins.
const { build: viteBuild } = await import("vite");
await viteBuild({
  root: join(root, "web"),
  configFile: false,
  logLevel: "warn",
  clearScreen: false,
  oxc: { jsx: { runtime: "automatic" } },
  build: {
    outDir: join(root, "web", "dist"),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
    reportCompressedSize: false,
  },
});
