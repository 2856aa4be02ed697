// `hutch sim pmt` and `hutch pmt analyse | scan | hv-check | dry-run | status | flag | archive` (R12860 monitoring).
import { mkdirSync } from "node:fs";
import type { Command } from "commander";
import { ErrorCode, HutchError } from "../../core/index.js";
import { PMT_ANALYSIS_DEFAULTS, analysePointFile, type PmtAnalysisOptions } from "../../analysis/index.js";
import {
  PmtScanSettingsSchema,
  connect,
  dryRun,
  pmtHvPlan,
  pmtScanPlan,
  resultOf,
  scanName,
  type OperatorClient,
} from "../../control/index.js";
import { PmtSimParamsSchema, writePmtScanFiles } from "../../sim/index.js";
import { componentTypes } from "../component-types.js";
import { addresses } from "../cli-support.js";
import { formatIssues, loadInstrument } from "../config.js";
import { simGroup } from "./sim-target-c.js";

const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new HutchError(ErrorCode.Config, `'${v}' is not a number`);
  return n;
};
const pair = (v: string): [number, number] => {
  const p = v.split(",").map(num);
  if (p.length !== 2 || !(p[1]! > p[0]!))
    throw new HutchError(ErrorCode.Config, `'${v}': expected LO,HI with LO < HI`);
  return [p[0]!, p[1]!];
};
const collectKv = (v: string, prev: Record<string, number> = {}) => {
  const m = /^(\d+)=(.+)$/.exec(v);
  if (!m) throw new HutchError(ErrorCode.Config, `'${v}': expected POINT=VALUE, e.g. 5=1.1e7`);
  return { ...prev, [m[1]!]: num(m[2]!) };
};

/** The pmt-scan component's name: given, or the first of its type. */
async function scanComponent(op: OperatorClient, given?: string): Promise<string> {
  if (given) return given;
  const s = await op.status({ timeoutMs: 5000 });
  const c = s.components.find((x) => x.type === "pmt-scan");
  if (!c)
    throw new HutchError(ErrorCode.UnknownComponent, `no pmt-scan component in instrument '${s.instrument}'`);
  return c.name;
}

async function withCore<T>(
  o: { config?: string; core?: string; component?: string },
  fn: (op: OperatorClient, comp: string) => Promise<T>,
): Promise<T> {
  const op = connect(addresses(o).control);
  try {
    return await fn(op, await scanComponent(op, o.component));
  } finally {
    await op.close();
  }
}

const print = (v: unknown) => console.log(JSON.stringify(v, null, 1));

function registerSimPmt(program: Command): void {
  simGroup(program)
    .command("pmt")
    .description(
      "PMT test stand: one point file (float32 [n, 2]: charge pC, time ns) per scan point, and truth.json",
    )
    .requiredOption("--out <dir>", "directory for point-NN.npy and truth.json")
    .option("--points <n>", "scan points", num, 21)
    .option("--events <n>", "triggers per point", num, 10_000)
    .option("--gain <g>", "gain of every point", num, 1.024e7)
    .option("--gain-at <point=gain>", "gain of one point (repeatable), e.g. 5=1.1e7", collectKv)
    .option("--events-at <point=n>", "triggers of one point (repeatable), e.g. 12=5", collectKv)
    .option("--hv <volts>", "HV check: one point per voltage (comma list), gain x (V/1800)^7")
    .option("--seed <n>", "random seed", num, 1)
    .action((o) => {
      const input = {
        gain: o.gain,
        events: o.events,
        seed: o.seed,
        gains: o.gainAt ?? {},
        eventsAt: o.eventsAt ?? {},
      };
      const parsed = PmtSimParamsSchema.safeParse(input);
      if (!parsed.success)
        throw new HutchError(ErrorCode.Config, formatIssues("sim pmt", parsed.error, input));
      mkdirSync(o.out, { recursive: true });
      const hv = o.hv ? String(o.hv).split(",").map(num) : undefined;
      const pts = writePmtScanFiles(o.out, o.points, parsed.data, hv);
      for (const p of pts)
        console.log(
          `${p.file}: ${p.events} triggers, gain ${p.gain.toExponential(4)} (mu1 ${p.mu1Pc.toFixed(4)} pC)`,
        );
    });
}

/** Registers `hutch sim pmt` and the `hutch pmt` commands. */
export function registerPmtCommands(program: Command): void {
  registerSimPmt(program);
  const pmt = program
    .command("pmt")
    .description("PMT scan monitoring: gain analysis, scans, HV check, flag / archive");

  pmt
    .command("analyse")
    .description(
      "one scan point's gain: R12860 cuts, unbinned 1 PE + 2 PE fit, histogram; writes a JSON result",
    )
    .argument("<input>", "point file (.npy float32 [n, 2]: charge pC, time ns)")
    .requiredOption("--out <file>", "result JSON (written atomically)")
    .option("--serial <s>", "PMT serial number, copied into the result")
    .option("--cell <n>", "scan cell, copied into the result", num)
    .option("--hv <volts>", "high voltage, copied into the result", num)
    .option("--charge-window <lo,hi>", "selected charges (pC)", pair)
    .option("--time-window <lo,hi>", "selected t_PMT - t_trigger (ns)", pair)
    .option("--mu1-range <lo,hi>", "bounds of the 1 PE mean (pC)", pair)
    .option("--min-events <n>", "fewer selected events: no-data", num)
    .option("--bins <n>", "bins of the charge histogram", num)
    .action((input: string, o) => {
      const opts: PmtAnalysisOptions = {
        chargeWindowPc: o.chargeWindow ?? PMT_ANALYSIS_DEFAULTS.chargeWindowPc,
        timeWindowNs: o.timeWindow ?? PMT_ANALYSIS_DEFAULTS.timeWindowNs,
        mu1RangePc: o.mu1Range ?? PMT_ANALYSIS_DEFAULTS.mu1RangePc,
        minEvents: o.minEvents ?? PMT_ANALYSIS_DEFAULTS.minEvents,
        bins: o.bins ?? PMT_ANALYSIS_DEFAULTS.bins,
      };
      const extra = {
        ...(o.serial !== undefined ? { serial: o.serial as string } : {}),
        ...(o.cell !== undefined ? { cell: o.cell as number } : {}),
        ...(o.hv !== undefined ? { hv: o.hv as number } : {}),
      };
      const r = analysePointFile(input, o.out, extra, opts);
      console.log(
        r.status === "ok"
          ? `${input}: ok, ${r.events} events selected; gain ${r.gain.toExponential(4)} ± ${r.gain_err.toExponential(2)}`
          : `${input}: ${r.status}: ${r.message}`,
      );
    });

  const core = (cmd: Command) =>
    cmd
      .option("-c, --config <file>", "instrument file (gives the core's address)")
      .option("--core <url>", "control address of the core")
      .option("--component <name>", "the pmt-scan component (default: the first of its type)");

  for (const kind of ["scan", "hv-check"] as const) {
    core(
      pmt
        .command(kind)
        .description(
          kind === "scan"
            ? "start a position scan in the core (it runs on after this command ends)"
            : "start an HV check in the core",
        )
        .requiredOption("--serial <serial>", "PMT serial number (any text)")
        .option("--reference <scan>", "an earlier scan drawn under each cell")
        .option("--wait", "follow the plan until it ends"),
    ).action(async (o) => {
      await withCore(o, async (op, comp) => {
        const started = await resultOf(
          op.call(comp, kind, { serial: o.serial, ...(o.reference ? { reference: o.reference } : {}) }),
        );
        print(started);
        if (!o.wait) return;
        for (;;) {
          const w = (await resultOf(op.call(comp, "wait", { timeoutMs: 5000 }, { timeoutMs: 10_000 }))) as {
            running: boolean;
          };
          if (!w.running) return print(w);
          const st = (await resultOf(op.call(comp, "status", {}))) as {
            running?: { done: number; total: number; message: string };
          };
          if (st.running) console.error(`${st.running.done}/${st.running.total} ${st.running.message}`);
        }
      });
    });
  }

  pmt
    .command("dry-run")
    .description("print the steps of a scan or HV check from the instrument file, without a core")
    .requiredOption("-c, --config <file>", "instrument file")
    .requiredOption("--serial <serial>", "PMT serial number")
    .option("--component <name>", "the pmt-scan component (default: the first of its type)")
    .option("--plan <plan>", "pmt-scan or pmt-hv-check", "pmt-scan")
    .action((o) => {
      const cfg = loadInstrument(o.config, componentTypes());
      const c = cfg.components.find((x) => (o.component ? x.name === o.component : x.type === "pmt-scan"));
      if (!c) throw new HutchError(ErrorCode.Config, `${o.config}: no pmt-scan component`);
      const s = PmtScanSettingsSchema.parse(c.params);
      const id = { serial: o.serial as string, name: scanName(o.serial as string, new Date()) };
      const d = dryRun(o.plan === "pmt-hv-check" ? pmtHvPlan(s, id) : pmtScanPlan(s, id));
      d.steps.forEach((st, i) => {
        const what =
          st.kind === "command"
            ? `${st.command}${st.params ? ` ${JSON.stringify(st.params)}` : ""}`
            : st.kind === "call"
              ? `${st.component}.${st.action} ${JSON.stringify(st.params).slice(0, 160)}`
              : st.kind === "collect"
                ? `collect ${st.stream} by ${st.key}: ${st.keys.length} values within ${st.timeoutMs / 1000} s`
                : st.kind === "emit"
                  ? `emit ${st.stream}`
                  : st.kind === "progress"
                    ? `${st.done}/${st.total} ${st.message}`
                    : `${st.level}: ${st.message}`;
        console.log(`${String(i + 1).padStart(3)} ${st.kind.padEnd(8)} ${what}`);
      });
    });

  for (const [name, what] of [
    ["status", "the running plan and the scans so far"],
    ["flag", "move the last (or --name) scan's data to the flag area"],
    ["archive", "move the last (or --name) scan's data to the archive area"],
    ["abort", "abort the running plan"],
  ] as const) {
    core(pmt.command(name).description(what).option("--name <scan>", "a scan name (flag, archive)")).action(
      async (o) => {
        await withCore(o, async (op, comp) =>
          print(await resultOf(op.call(comp, name, o.name ? { name: o.name } : {}))),
        );
      },
    );
  }
}
