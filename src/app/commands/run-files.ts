// `hutch replay` and `hutch recover`: stored runs back through the live chain, and run files after a crash.
import type { Command } from "commander";
import { ErrorCode, HutchError } from "../../core/index.js";
import { connect } from "../../control/index.js";
import { recoverRunFile } from "../../storage/index.js";
import { addresses } from "../cli-support.js";

/** A one-line progress bar for a terminal (plain lines when stdout is not a TTY). */
export function progressLine(percent: number | undefined, text: string, width = 30): string {
  if (percent === undefined) return text;
  const full = Math.round((percent / 100) * width);
  return `[${"#".repeat(full)}${".".repeat(width - full)}] ${percent.toFixed(0).padStart(3)}% ${text}`;
}

/** Registers `hutch replay` and `hutch recover`. */
export function registerRunFileCommands(program: Command): void {
  program
    .command("replay")
    .description(
      "publish a stored run's documents as a new run through the live chain (builders, analysis, files)",
    )
    .argument("<files...>", "run file(s) of one run (parts in order)")
    .option("--speed <x>", "times the recorded pace (1 = as recorded)", (v) => Number(v), 1)
    .option("--max", "as fast as the chain takes them")
    .option("-c, --config <file>", "instrument file (gives the core's address)")
    .option("--core <url>", "control address of the core")
    .action(async (files: string[], o) => {
      if (!o.max && !(o.speed > 0))
        throw new HutchError(ErrorCode.Validation, `--speed: expected a number > 0, got '${o.speed}'`);
      const op = connect(addresses(o).control);
      const tty = process.stdout.isTTY;
      try {
        for await (const p of op.replay(files, { speed: o.max ? 0 : o.speed })) {
          if (p.type === "progress") {
            const d = p.data as { percent?: number } | undefined;
            const line = progressLine(d?.percent, p.message);
            if (tty && d?.percent !== undefined) process.stdout.write(`\r${line}`);
            else if (!d || d.percent === undefined || !tty) console.log(tty ? line : p.message);
          } else if (p.type === "result") {
            const r = p.data as { run: number; exitStatus: string; counts: Record<string, number> };
            if (tty) process.stdout.write("\n");
            console.log(
              `replay done: run ${r.run} (${r.exitStatus}); events: ${Object.entries(r.counts)
                .map(([k, v]) => `${k}=${v}`)
                .join(", ")}`,
            );
          } else {
            if (tty) process.stdout.write("\n");
            throw new HutchError(p.code as ErrorCode, p.message);
          }
        }
      } finally {
        await op.close();
      }
    });
  program
    .command("recover")
    .description(
      "make a run file readable again after its writer was killed (clears the open flag, trims, marks it failed)",
    )
    .argument("<file>", "HDF5 run file")
    .option("--json", "JSON output")
    .action(async (file: string, o) => {
      const r = await recoverRunFile(file);
      if (o.json) return console.log(JSON.stringify(r));
      if (r.complete && r.flagsFound === 0) return console.log(`${file}: closed cleanly; nothing to recover`);
      console.log(
        `${file}: recovered (open flag was ${r.flagsFound}); rows kept: ${
          Object.entries(r.rows)
            .map(([k, v]) => `${k}=${v}`)
            .join(", ") || "none"
        }`,
      );
      const trimmed = Object.entries(r.trimmed).filter(([, v]) => v > 0);
      if (trimmed.length)
        console.log(`  trimmed to equal lengths: ${trimmed.map(([k, v]) => `${k}: ${v} rows`).join(", ")}`);
    });
}
