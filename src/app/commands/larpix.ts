// `hutch sim larpix-board`, `hutch routine(s)` and `hutch larpix ...`: larpix-daq's operator commands on Hutch.
import type { Command } from "commander";
import { ErrorCode, HutchError } from "../../core/index.js";
import { connect, resultOf, type OperatorClient, type Progress } from "../../control/index.js";
import { LarpixBoardSimOptionsSchema, runLarpixBoardSim, type LarpixBoardSimInput } from "../../sim/index.js";
import { LarpixOperator, type OperatorProgress } from "../../sources/index.js";
import { addresses, untilSignal } from "../cli-support.js";
import { formatIssues } from "../config.js";
import { simGroup } from "./sim-target-c.js";

const num = (v: string) => Number(v);

/** `key=value` arguments to params (values parsed as JSON when they can be: `samples=200`, `chips=["1-1-246"]`). */
export function parseKeyValues(args: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of args) {
    const m = /^([A-Za-z_][\w.-]*)=(.*)$/s.exec(a);
    if (!m) throw new HutchError(ErrorCode.Validation, `'${a}': expected key=value (e.g. samples=200)`);
    let v: unknown = m[2];
    try {
      v = JSON.parse(m[2]!);
    } catch {
      /* a plain string */
    }
    out[m[1]!] = v;
  }
  return out;
}

interface CommonOpts {
  config?: string;
  core?: string;
  bus?: string;
  component?: string;
  monitor?: string;
  timeout?: number;
  json?: boolean;
}

const common = (cmd: Command): Command =>
  cmd
    .option("-c, --config <file>", "instrument file (gives the core's address)")
    .option("--core <url>", "control address of the core")
    .option("--component <name>", "the larpix-board component (default: the first of its type)")
    .option("--timeout <ms>", "give up after this long", num)
    .option("--json", "print the result as JSON");

/** Finds the component of a type when none is named. */
async function componentOf(op: OperatorClient, type: string, given?: string): Promise<string> {
  if (given) return given;
  const s = await op.status({ timeoutMs: 5000 });
  const c = s.components.find((x) => x.type === type);
  if (!c) {
    throw new HutchError(
      ErrorCode.UnknownComponent,
      `no ${type} component in instrument '${s.instrument}' (components: ${s.components.map((x) => `${x.name} (${x.type})`).join(", ") || "none"})`,
    );
  }
  return c.name;
}

/** Runs one LArPix call and prints its progress and result. */
async function call(
  o: CommonOpts,
  fn: (lp: LarpixOperator, timeoutMs: number | undefined) => AsyncIterable<OperatorProgress>,
): Promise<void> {
  const op = connect(addresses(o).control);
  try {
    const board = await componentOf(op, "larpix-board", o.component);
    const monitor = await componentOf(op, "larpix-monitor", o.monitor).catch(() => "recent");
    const lp = new LarpixOperator(op, { board, monitor });
    const data = await resultOf(fn(lp, o.timeout) as AsyncIterable<Progress>, (p) => {
      if (p.type !== "progress" || o.json) return;
      const d = p.data as { message?: string } | undefined;
      console.log(`  ${d?.message ?? p.message}`);
    });
    console.log(JSON.stringify(data, null, o.json ? undefined : 1));
  } finally {
    await op.close();
  }
}

function registerSim(program: Command): void {
  simGroup(program)
    .command("larpix-board")
    .description(
      "a LArPix v1 data board: REP commands (SNDWORD, SYRESET, ...) and PUB data, chips 246/245/252/243",
    )
    .option("--host <addr>", "address to bind", "127.0.0.1")
    .option("--command-port <n>", "REP port", num, 5555)
    .option("--data-port <n>", "PUB port", num, 5556)
    .option("--io-channel <n>", "daisy chain of the chips", num, 1)
    .option("--chips <ids>", "chip ids (comma list)", (v) => v.split(",").map(Number), [246, 245, 252, 243])
    .option("--rate <hz>", "self-triggered packets per second", num, 200)
    .option("--clock <khz>", "CLK2X at start", num, 10_000)
    .option("--seed <n>", "random seed (pedestals, packets)", num, 1)
    .option("--bad-parity <p>", "fault: fraction of packets with a flipped parity bit", num, 0)
    .option("--garbage <p>", "fault: chance per data message of an extra malformed message", num, 0)
    .action(async (o) => {
      const input: LarpixBoardSimInput = {
        host: o.host,
        commandPort: o.commandPort,
        dataPort: o.dataPort,
        ioChannel: o.ioChannel,
        chips: o.chips,
        rateHz: o.rate,
        clockKHz: o.clock,
        seed: o.seed,
        badParityFraction: o.badParity,
        garbageFraction: o.garbage,
      };
      const parsed = LarpixBoardSimOptionsSchema.safeParse(input);
      if (!parsed.success)
        throw new HutchError(ErrorCode.Config, formatIssues("sim larpix-board", parsed.error, input));
      const ac = new AbortController();
      const done = runLarpixBoardSim(input, {
        signal: ac.signal,
        reportMs: 5000,
        ready: (a) => console.error(`sim larpix-board: commands ${a.command}, data ${a.data} (Ctrl-C stops)`),
        report: (s) =>
          console.error(
            `sim larpix-board: ${s.packets} packets, ${s.commands} commands, ${s.configWrites} config writes`,
          ),
      });
      await untilSignal(async () => {
        ac.abort();
        console.log(JSON.stringify(await done));
      });
    });
}

function registerRoutines(program: Command): void {
  common(program.command("routines").description("list the LArPix routines and their params")).action(
    (o: CommonOpts) => call(o, (lp, t) => lp.listRoutines(t)),
  );
  common(
    program
      .command("routine")
      .description(
        "run a LArPix routine: hutch routine calibrate samples=200 (progress streams; ends with the result)",
      )
      .argument("<name>", "routine name (hutch routines lists them)")
      .argument("[params...]", "key=value params"),
  ).action((name: string, params: string[], o: CommonOpts) =>
    call(o, (lp, t) => lp.runRoutine(name, parseKeyValues(params), t)),
  );
}

function registerLarpix(program: Command): void {
  const g = program
    .command("larpix")
    .description("LArPix operator: runs, boards, chip configuration, recent packets");
  const sub = (name: string, description: string) => common(g.command(name).description(description));
  sub("prepare", "prepare a run (READY): boards pinged, chips reset and configured").action((o: CommonOpts) =>
    call(o, (lp, t) => lp.prepareRun({}, t)),
  );
  sub("begin", "begin a run").action((o: CommonOpts) => call(o, (lp, t) => lp.beginRun(t)));
  sub("end", "end the run")
    .option("--reason <text>", "recorded in the run-stop document")
    .action((o: CommonOpts & { reason?: string }) => call(o, (lp, t) => lp.endRun(o.reason, t)));
  sub("load-board", "load a board file (chips and configurations)")
    .argument("<file>", "YAML or JSON board file")
    .option("--write", "also write the configurations to the chips")
    .action((file: string, o: CommonOpts & { write?: boolean }) =>
      call(o, (lp, t) => lp.loadBoard(file, !!o.write, t)),
    );
  sub("write-config", "write the stored configuration to chips (default all)")
    .argument("[chips...]", "chip keys io_group-io_channel-chip_id")
    .action((chips: string[], o: CommonOpts) =>
      call(o, (lp, t) => lp.writeConfiguration(chips.length ? chips : undefined, t)),
    );
  sub("read-config", "read a chip's registers back")
    .argument("<chip>", "chip key")
    .action((chip: string, o: CommonOpts) => call(o, (lp, t) => lp.readConfiguration(chip, t)));
  sub("validate-config", "read chips back and compare with the stored configuration")
    .argument("[chips...]", "chip keys (default all)")
    .action((chips: string[], o: CommonOpts) =>
      call(o, (lp, t) => lp.validateConfiguration(chips.length ? chips : undefined, t)),
    );
  sub("set-config", "change a chip's configuration: hutch larpix set-config 1-1-246 global_threshold=60")
    .argument("<chip>", "chip key")
    .argument("<fields...>", "name=value")
    .option("--no-write", "only change the stored configuration")
    .action((chip: string, fields: string[], o: CommonOpts & { write: boolean }) =>
      call(o, (lp, t) => lp.setConfiguration(chip, parseKeyValues(fields), o.write, t)),
    );
  sub("boards", "the boards (address, last sign of life, lost) and chips").action((o: CommonOpts) =>
    call(o, (lp, t) => lp.boards(t)),
  );
  sub("recent", "the last packets and messages of the run (from the larpix-monitor)")
    .option("--monitor <name>", "the larpix-monitor component")
    .option("--last <n>", "how many", num)
    .action((o: CommonOpts & { last?: number }) => call(o, (lp, t) => lp.recent(o.last, t)));
}

/** Registers `hutch sim larpix-board`, `hutch routines`, `hutch routine NAME [k=v...]` and `hutch larpix ...`. */
export function registerLarpixCommands(program: Command): void {
  registerSim(program);
  registerRoutines(program);
  registerLarpix(program);
}
