// Transpiles src/**/*.ts to dist/ with esbuild (one file per module, no bundling), builds the native kernels
// (native/ -> native/build, node-gyp, optional) and the dashboard page (web/ -> web/dist) with vite; type-checking
// is `npm run typecheck`.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { build } from "esbuild";

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

// The native kernels (C, node-gyp against Node's own headers, offline): rebuilt when a source is newer than the
// addon. Optional: without a compiler the TypeScript decoders run (CI requires them: see the LArPix decode tests).
buildNative();

function buildNative() {
  const dir = join(root, "native");
  const addon = join(dir, "build", "Release", "hutch_native.node");
  const sources = readdirSync(dir).filter((f) => /\.(c|h|gyp)$/.test(f));
  const built = existsSync(addon) ? statSync(addon).mtimeMs : 0;
  if (sources.every((f) => statSync(join(dir, f)).mtimeMs < built)) return;
  // npm hands scripts its own node-gyp; run directly, take the one npm ships beside node.
  const gyp =
    process.env.npm_config_node_gyp ??
    join(
      dirname(process.execPath),
      "..",
      "lib",
      "node_modules",
      "npm",
      "node_modules",
      "node-gyp",
      "bin",
      "node-gyp.js",
    );
  const nodedir = process.env.npm_config_nodedir ?? join(dirname(process.execPath), "..");
  const r = existsSync(gyp)
    ? spawnSync(process.execPath, [gyp, "rebuild", `--nodedir=${nodedir}`], { cwd: dir, encoding: "utf8" })
    : undefined;
  if (r?.status === 0) return;
  const why = r
    ? (r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")
    : `node-gyp not found at ${gyp}`;
  console.warn(`hutch: native kernels not built (${why}); their TypeScript versions run`);
}

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
