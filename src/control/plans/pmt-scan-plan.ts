// The PMT scan and HV check as plans: per point acquire, submit the gain analysis as a job, collect the results.
import { z } from "zod";
import { PMT_GAIN_DEFAULTS, type FieldSpec } from "../../core/index.js";
import { hvCheck, pmtResultFields, type HvCheckResult } from "../../analysis/index.js";
import {
  call,
  collect,
  command,
  emit,
  log,
  progress,
  type Collected,
  type Plan,
  type PlanStep,
} from "./plan-steps.js";
import { scanPoints, type ScanPoint } from "./scan-points.js";

const Window = z
  .tuple([z.number(), z.number()])
  .refine(([a, b]) => b > a, "a window is [lo, hi] with lo < hi");
const Stream = z.string().regex(/^[A-Za-z0-9_.-]+$/, "a stream name");

/** Settings of PMT scans (params of the `pmt-scan` component). */
export const PmtScanSettingsSchema = z.strictObject({
  /** Component names: the DAQ (`acquire` action) and the jobs component. */
  daq: z.string().default("pmt"),
  jobs: z.string().default("jobs"),
  /** Jobs target of the analysis (default: the jobs component's default target). */
  target: z.string().optional(),
  thetasDeg: z.array(z.number().min(0).max(90)).min(1).default([10, 20, 30, 40, 50]),
  phisDeg: z.array(z.number().min(0).max(360)).min(1).default([0, 90, 180, 270]),
  /** Include the point theta = 0 (first cell). */
  centre: z.boolean().default(true),
  /** Triggers per point (default: the DAQ's). */
  eventsPerPoint: z.number().int().min(1).optional(),
  /** Voltages of the HV check (their gains must put the 1 PE peak inside mu1RangePc). */
  hvV: z.array(z.number().positive()).min(3).default([1720, 1750, 1780, 1810, 1840]),
  targetGain: z.number().positive().default(1e7),
  /** Healthy gains: green inside, red outside, yellow without a gain. */
  healthy: Window.default([0.999e7, 1.049e7]),
  analysis: z
    .strictObject({
      /** The analysis program on the target; the point file, --out and the settings are appended. */
      argv: z.array(z.string()).min(1).default(["hutch", "pmt", "analyse"]),
      timeLimitMs: z.number().int().min(1000).default(600_000),
      chargeWindowPc: Window.default([...PMT_GAIN_DEFAULTS.chargeWindowPc]),
      timeWindowNs: Window.default([...PMT_GAIN_DEFAULTS.timeWindowNs]),
      mu1RangePc: Window.default([...PMT_GAIN_DEFAULTS.mu1RangePc]),
      minEvents: z.number().int().min(1).default(PMT_GAIN_DEFAULTS.minEvents),
      bins: z.number().int().min(4).max(10_000).default(80),
    })
    .default({
      argv: ["hutch", "pmt", "analyse"],
      timeLimitMs: 600_000,
      chargeWindowPc: [...PMT_GAIN_DEFAULTS.chargeWindowPc],
      timeWindowNs: [...PMT_GAIN_DEFAULTS.timeWindowNs],
      mu1RangePc: [...PMT_GAIN_DEFAULTS.mu1RangePc],
      minEvents: PMT_GAIN_DEFAULTS.minEvents,
      bins: 80,
    }),
  resultStream: Stream.default("pmt-gain"),
  referenceStream: Stream.default("pmt-reference"),
  hvStream: Stream.default("pmt-hv"),
  /** The scan gives up after this long (the R12860 monitor: 6 h). */
  scanTimeoutMs: z
    .number()
    .int()
    .min(1000)
    .default(6 * 3600_000),
});
/** Settings of PMT scans (after defaults). */
export type PmtScanSettings = z.infer<typeof PmtScanSettingsSchema>;

/** Which scan: the PMT's serial number (any text; it travels as data) and the scan's directory name. */
export interface ScanId {
  readonly serial: string;
  readonly name: string;
  /** Results of an earlier scan, drawn under each cell's histogram. */
  readonly reference?: Collected;
}

/** One cell of a finished scan. */
export interface CellResult {
  readonly cell: number;
  readonly label: string;
  readonly gain: number;
  readonly gainError: number;
  readonly status: string;
  /** green (healthy), red (outside the healthy range), yellow (no gain). */
  readonly colour: "green" | "red" | "yellow";
}

/** What a scan plan returns. */
export interface ScanSummary {
  readonly name: string;
  readonly serial: string;
  readonly cells: CellResult[];
  readonly counts: { green: number; red: number; yellow: number };
  readonly hv?: HvCheckResult;
  /** The result events per cell as collected (kept as the scan's results, e.g. for a reference). */
  readonly collected?: Collected;
}

const num = (v: unknown) => (typeof v === "number" ? v : NaN);

/** The argv of one point's analysis: the program, the point file and every setting as `--name=value`. */
export function analysisArgv(
  s: PmtScanSettings,
  file: string,
  serial: string,
  cell: number,
  hvV?: number,
): string[] {
  const a = s.analysis;
  return [
    ...a.argv,
    file,
    "--out=result.json",
    `--serial=${serial}`,
    `--cell=${cell}`,
    ...(hvV !== undefined ? [`--hv=${hvV}`] : []),
    `--charge-window=${a.chargeWindowPc.join(",")}`,
    `--time-window=${a.timeWindowNs.join(",")}`,
    `--mu1-range=${a.mu1RangePc.join(",")}`,
    `--min-events=${a.minEvents}`,
    `--bins=${a.bins}`,
  ];
}

function colourOf(s: PmtScanSettings, gain: number): CellResult["colour"] {
  if (!Number.isFinite(gain) || gain <= 0) return "yellow";
  return gain >= s.healthy[0] && gain <= s.healthy[1] ? "green" : "red";
}

/** Acquire + submit for each point, then collect every result: the shared body of both plans. */
function* pointsBody(
  s: PmtScanSettings,
  id: ScanId,
  points: readonly (ScanPoint & { hvV?: number })[],
  total: number,
): Generator<PlanStep, Collected, unknown> {
  const fields: Record<string, FieldSpec> = pmtResultFields(s.analysis.bins);
  for (const p of points) {
    yield* progress(p.cell + 1, total, `${p.label}: acquiring`);
    const file = `point-${String(p.cell).padStart(2, "0")}.npy`;
    yield* call(s.daq, "acquire", {
      point: p.cell,
      group: id.name,
      file,
      thetaDeg: p.thetaDeg,
      phiDeg: p.phiDeg,
      ...(p.hvV !== undefined ? { hvV: p.hvV } : {}),
      ...(s.eventsPerPoint ? { events: s.eventsPerPoint } : {}),
    });
    yield* call(s.jobs, "submit", {
      label: `${id.serial} ${p.label}`,
      argv: analysisArgv(s, file, id.serial, p.cell, p.hvV),
      group: id.name,
      ...(s.target ? { target: s.target } : {}),
      inputs: [`${id.name}/${file}`],
      results: ["result.json"],
      timeLimitMs: s.analysis.timeLimitMs,
      publish: {
        stream: s.resultStream,
        file: "result.json",
        fields,
        base: { cell: p.cell, serial: id.serial, ...(p.hvV !== undefined ? { hv: p.hvV } : {}) },
      },
    });
  }
  yield* progress(points.length, total, "waiting for the analysis jobs");
  return yield* collect(
    s.resultStream,
    "cell",
    points.map((p) => p.cell),
    s.scanTimeoutMs,
  );
}

/**
 * The position scan: prepare and start a run (plan `pmt-scan`, the serial in its configuration), show the
 * reference, then for every point (theta 0; theta x phi) acquire and submit its analysis job, collect all
 * results (each job publishes its own), and stop the run with the tally in the reason.
 * @example dryRun(pmtScanPlan(PmtScanSettingsSchema.parse({}), { serial: "EA1234", name: "EA1234-x" }));
 */
export function pmtScanPlan(s: PmtScanSettings, id: ScanId): Plan<ScanSummary> {
  const points = scanPoints(s);
  const total = points.length + 2;
  return {
    name: "pmt-scan",
    label: `PMT scan ${id.serial}`,
    watch: [s.resultStream],
    *steps() {
      yield* command("prepare", {
        plan: "pmt-scan",
        scan: { serial: id.serial, name: id.name, points: points.length },
      });
      yield* command("start");
      if (id.reference) {
        const f: Record<string, FieldSpec> = {
          cell: { dtype: "int32", shape: [] },
          counts: { dtype: "float64", shape: [s.analysis.bins] },
        };
        for (const [cell, d] of Object.entries(id.reference)) {
          if (d.counts) yield* emit(s.referenceStream, f, { cell: Number(cell), counts: d.counts });
        }
      }
      const got = yield* pointsBody(s, id, points, total);
      const cells = points.map((p): CellResult => {
        const d = got[String(p.cell)] ?? {};
        const gain = num(d.gain);
        return {
          cell: p.cell,
          label: p.label,
          gain,
          gainError: num(d.gain_err),
          status: typeof d.status === "string" ? d.status : "dry-run",
          colour: colourOf(s, gain),
        };
      });
      const counts = { green: 0, red: 0, yellow: 0 };
      for (const c of cells) counts[c.colour]++;
      const tally = `${counts.green} in range, ${counts.red} out of range, ${counts.yellow} without a gain`;
      yield* log("info", `scan ${id.name} (${id.serial}): ${tally}`);
      yield* progress(total, total, tally);
      yield* command("stop", { reason: `scan complete: ${tally}` });
      return { name: id.name, serial: id.serial, cells, counts, collected: got };
    },
  };
}

/** Fields of the HV check's event. */
export const HV_FIELDS: Record<string, FieldSpec> = {
  status: { dtype: "string", shape: [] },
  hv_at_target: { dtype: "float64", shape: [], units: "V" },
  hv_at_target_err: { dtype: "float64", shape: [], units: "V" },
  target_gain: { dtype: "float64", shape: [] },
  slope: { dtype: "float64", shape: [], description: "d log10(gain) / d log10(HV)" },
  slope_err: { dtype: "float64", shape: [] },
  intercept: { dtype: "float64", shape: [] },
  intercept_err: { dtype: "float64", shape: [] },
  chi2: { dtype: "float64", shape: [] },
  ndf: { dtype: "float64", shape: [] },
  points: { dtype: "float64", shape: [] },
};

/**
 * The HV check at theta 0: one point per voltage (acquire, analysis job), then a straight-line fit of log10(gain)
 * vs log10(HV) and the HV for the target gain, published on the HV stream and returned.
 */
export function pmtHvPlan(s: PmtScanSettings, id: ScanId): Plan<ScanSummary> {
  const points = s.hvV.map((hvV, cell) => ({ cell, thetaDeg: 0, phiDeg: 0, hvV, label: `${hvV} V` }));
  const total = points.length + 2;
  return {
    name: "pmt-hv-check",
    label: `HV check ${id.serial}`,
    watch: [s.resultStream],
    *steps() {
      yield* command("prepare", {
        plan: "pmt-hv-check",
        scan: { serial: id.serial, name: id.name, hvV: s.hvV },
      });
      yield* command("start");
      const got = yield* pointsBody(s, id, points, total);
      const cells = points.map((p): CellResult => {
        const d = got[String(p.cell)] ?? {};
        const gain = num(d.gain);
        const status = typeof d.status === "string" ? d.status : "dry-run";
        return {
          cell: p.cell,
          label: p.label,
          gain,
          gainError: num(d.gain_err),
          status,
          colour: colourOf(s, gain),
        };
      });
      let hv: HvCheckResult | undefined;
      let reason = "";
      try {
        hv = hvCheck(
          cells.map((c, i) => ({ hvV: points[i]!.hvV, gain: c.gain, gainError: c.gainError })),
          s.targetGain,
        );
      } catch (err) {
        reason = (err as Error).message;
      }
      yield* emit(s.hvStream, HV_FIELDS, {
        status: hv ? "ok" : "no-data",
        hv_at_target: hv?.hvAtTargetV ?? NaN,
        hv_at_target_err: hv?.hvAtTargetErrorV ?? NaN,
        target_gain: s.targetGain,
        slope: hv?.slope ?? NaN,
        slope_err: hv?.slopeError ?? NaN,
        intercept: hv?.intercept ?? NaN,
        intercept_err: hv?.interceptError ?? NaN,
        chi2: hv?.chi2 ?? NaN,
        ndf: hv?.ndf ?? NaN,
        points: hv?.points ?? 0,
      });
      const said = hv
        ? `HV for gain ${s.targetGain.toExponential(2)}: ${hv.hvAtTargetV.toFixed(1)} ± ${hv.hvAtTargetErrorV.toFixed(1)} V`
        : `HV check without a result: ${reason}`;
      yield* log(hv ? "info" : "warn", `${id.serial}: ${said}`);
      yield* command("stop", { reason: said });
      const counts = { green: 0, red: 0, yellow: 0 };
      for (const c of cells) counts[c.colour]++;
      return { name: id.name, serial: id.serial, cells, counts, collected: got, ...(hv ? { hv } : {}) };
    },
  };
}
