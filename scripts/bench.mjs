// Runs one benchmark: `npm run bench -- NAME` executes bench/NAME.ts (printing `name: value` lines, headline `ratio: X`).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

const name = process.argv[2];
const benches = readdirSync(new URL("../bench/", import.meta.url))
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.slice(0, -3));
if (!name || !benches.includes(name)) {
  console.error(`usage: npm run bench -- NAME   (one of: ${benches.join(", ") || "none yet"})`);
  process.exit(2);
}
const file = new URL(`../bench/${name}.ts`, import.meta.url).pathname;
if (!existsSync(file)) process.exit(2);
// Hutch runs on its native addons where they build: a bench on a fresh machine gets their headers (as root, as
// `npm test` does) and builds what is missing, rather than measuring the fallbacks.
const addons = ["native-hdf5/build/Release/hutch_hdf5.node", "native-zmq/build/Release/hutch_zmq.node"];
if (addons.some((a) => !existsSync(new URL(`../${a}`, import.meta.url)))) {
  const here = new URL(".", import.meta.url).pathname;
  spawnSync(process.execPath, [`${here}system-deps.mjs`, "libhdf5-dev", "libzmq3-dev"], { stdio: "inherit" });
  spawnSync(process.execPath, [`${here}build.mjs`], { stdio: "inherit" });
}
const r = spawnSync(process.execPath, ["--import", "tsx", file, ...process.argv.slice(3)], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
