#!/usr/bin/env node
// The `hutch` command: runs the compiled CLI (built by `npm install` / `npm run build`).
import { existsSync } from "node:fs";
const main = new URL("../dist/app/main.js", import.meta.url);
if (!existsSync(main)) {
  console.error("hutch: dist/ is missing; run `npm run build` (npm install does it) first.");
  process.exit(2);
}
const { run } = await import(main.href);
await run(process.argv);
