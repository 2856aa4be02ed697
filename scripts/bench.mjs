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
const r = spawnSync(process.execPath, ["--import", "tsx", file, ...process.argv.slice(3)], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
