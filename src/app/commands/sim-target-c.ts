// `hutch sim target-c`: the CHEC-S camera simulator (32 TARGET-C modules over UDP) from the command line.
import type { Command } from "commander";
import { ErrorCode, HutchError } from "../../core/index.js";
import { TargetCSimOptionsSchema, runTargetCSim, type TargetCSimInput } from "../../sim/index.js";
import { formatIssues } from "../config.js";

const num = (v: string) => Number(v);
const list = (v: string) => v.split(",").filter(Boolean).map(Number);

/** The `sim` command group (created once) so each simulator adds its subcommand. */
export function simGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === "sim") ??
    program.command("sim").description("simulators speaking each hardware's real protocol")
  );
}

/** Registers `hutch sim target-c`. */
export function registerSimTargetC(program: Command): void {
  simGroup(program)
    .command("target-c")
    .description(
      "CHEC-S slow signal: modules sending TARGET-C readouts over UDP from 127.0.0.101.. (no Docker)",
    )
    .requiredOption("--to <host:port>", "where the target-c source listens, e.g. 127.0.0.1:17000")
    .option("--modules <n>", "number of modules", num, 32)
    .option("--rate <hz>", "readouts per second per module", num, 10)
    .option("--readouts-per-datagram <n>", "readouts per datagram (144 bytes each)", num, 10)
    .option("--seed <n>", "random seed (reproducible pixels and faults)", num, 1)
    .option("--duration <s>", "stop after this many seconds", num)
    .option("--drop <modules>", "fault: these modules never send (comma list)", list)
    .option("--delay <module:ms>", "fault: one module's datagrams leave this much later")
    .option("--duplicate <p>", "fault: probability a datagram is sent twice", num)
    .option("--reorder <p>", "fault: probability a datagram is held back one round", num)
    .option("--corrupt <p>", "fault: probability a readout gets an impossible timestamp", num)
    .option("--garbage <p>", "fault: probability of an extra garbage datagram", num)
    .option("--unknown-source <p>", "fault: probability of a datagram from an address that is no module", num)
    .action(async (o) => {
      const delay = o.delay ? /^(\d+):(\d+(?:\.\d+)?)$/.exec(o.delay as string) : undefined;
      if (o.delay && !delay)
        throw new HutchError(ErrorCode.Config, `--delay: expected MODULE:MS, got '${o.delay}'`);
      const input: TargetCSimInput = {
        to: o.to,
        modules: o.modules,
        rateHz: o.rate,
        readoutsPerDatagram: o.readoutsPerDatagram,
        seed: o.seed,
        ...(o.duration ? { durationMs: o.duration * 1000 } : {}),
        faults: {
          dropModules: o.drop ?? [],
          delayModules: delay ? [{ module: Number(delay[1]), delayMs: Number(delay[2]) }] : [],
          duplicate: o.duplicate ?? 0,
          reorder: o.reorder ?? 0,
          corrupt: o.corrupt ?? 0,
          garbage: o.garbage ?? 0,
          unknownSource: o.unknownSource ?? 0,
        },
      };
      const parsed = TargetCSimOptionsSchema.safeParse(input);
      if (!parsed.success)
        throw new HutchError(ErrorCode.Config, formatIssues("sim target-c", parsed.error, input));
      const ac = new AbortController();
      process.once("SIGINT", () => ac.abort());
      process.once("SIGTERM", () => ac.abort());
      console.error(
        `sim target-c: ${input.modules} modules -> ${input.to} at ${input.rateHz} readouts/s each (Ctrl-C stops)`,
      );
      const stats = await runTargetCSim(input, {
        signal: ac.signal,
        reportMs: 5000,
        report: (s) =>
          console.error(
            `sim target-c: ${s.datagrams} datagrams, ${s.readouts} readouts` +
              `${s.sendErrors ? `, ${s.sendErrors} send errors` : ""}`,
          ),
      });
      console.log(JSON.stringify(stats));
    });
}
