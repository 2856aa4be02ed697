// Transpiles src/**/*.ts to dist/ with esbuild (one file per module, no bundling), builds the native kernels
// (native/ -> native/build), HDF5 writer (native-hdf5/ -> native-hdf5/build) and ZeroMQ sockets (native-zmq/ ->
// native-zmq/build; node-gyp, optional) and the dashboard page (web/ -> web/dist) with vite; type-checking is
// `npm run typecheck`.
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

// The native parts (C, node-gyp against Node's own headers, offline), each rebuilt when a source is newer than its
// addon. Optional: without a compiler the TypeScript kernels run, without libhdf5-dev run files are written with
// h5wasm, without libzmq3-dev the data path runs on zeromq.js (CI requires all three: see the LArPix decode tests,
// test/storage-backends.test.ts and test/zmq-pushpull.test.ts).
buildAddon("native", "hutch_native", "native kernels not built", "their TypeScript versions run");
buildLinked(["/usr/include/hdf5/serial/hdf5.h", "/usr/include/hdf5.h"], "libhdf5-dev", [
  "native-hdf5",
  "hutch_hdf5",
  "native HDF5 writer not built",
  "run files are written with h5wasm",
]);
buildLinked(["/usr/include/zmq.h"], "libzmq3-dev", [
  "native-zmq",
  "hutch_zmq",
  "native ZeroMQ sockets not built",
  "the data path runs on zeromq.js",
]);

/** Builds an addon that links a system library when its header (one of `headers`) is there, else says why not. */
function buildLinked(headers, pkg, [folder, name, failed, fallback]) {
  if (headers.some((h) => existsSync(h))) {
    buildAddon(folder, name, failed, fallback, [join(root, "native", "hutch_native.h")]);
  } else {
    console.warn(`hutch: ${failed} (${pkg} is not installed: apt-get install ${pkg}); ${fallback}`);
  }
}

/** Builds `folder`'s addon when a source there (or one of `shared`: headers of other folders) is newer. */
function buildAddon(folder, name, failed, fallback, shared = []) {
  const dir = join(root, folder);
  const addon = join(dir, "build", "Release", `${name}.node`);
  const sources = [
    ...readdirSync(dir)
      .filter((f) => /\.(c|h|gyp)$/.test(f))
      .map((f) => join(dir, f)),
    ...shared,
  ];
  const built = existsSync(addon) ? statSync(addon).mtimeMs : 0;
  if (sources.every((f) => statSync(f).mtimeMs < built)) return;
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
  console.warn(`hutch: ${failed} (${why}); ${fallback}`);
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
