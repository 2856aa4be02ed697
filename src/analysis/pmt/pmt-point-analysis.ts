// One scan point's gain analysis: R12860 cuts, unbinned two-Gaussian fit, charge histogram and fit curve.
import { PMT_GAIN_DEFAULTS, normalInterval, pmtGain, type FieldSpec } from "../../core/index.js";

/** Settings of the point analysis (FACTS.md section 4). */
export interface PmtAnalysisOptions {
  readonly chargeWindowPc: readonly [number, number];
  readonly timeWindowNs: readonly [number, number];
  readonly mu1RangePc: readonly [number, number];
  /** Fewer selected events gives status "no-data" (never a gain of 0). */
  readonly minEvents: number;
  /** Bins of the charge histogram over the charge window. */
  readonly bins: number;
}

/** The R12860 settings with an 80-bin histogram. */
export const PMT_ANALYSIS_DEFAULTS: PmtAnalysisOptions = { ...PMT_GAIN_DEFAULTS, bins: 80 };

/** A point's result, as the analysis job writes it (JSON: NaN becomes null). */
export interface PmtPointResult {
  /** ok, failed (no convergence) or no-data (too few events). */
  status: "ok" | "failed" | "no-data";
  /** mu1 [pC] x 1e-12 / e; NaN unless ok. */
  gain: number;
  gain_err: number;
  /** Events after the cuts. */
  events: number;
  /** Triggers in the file. */
  triggers: number;
  converged: boolean;
  mu1: number;
  mu1_err: number;
  sigma1: number;
  sigma1_err: number;
  N1: number;
  N2: number;
  sigma2: number;
  nll: number;
  /** Histogram of the selected charges, its edges (pC) and the fitted counts per bin. */
  counts: number[];
  edges: number[];
  curve: number[];
  message: string;
}

/**
 * Fields of a point result as a stream (the scan grid reads `cell`, `gain`, `counts`); `cell`, `hv` and
 * `serial` come from the job that analysed the point.
 */
export function pmtResultFields(bins: number): Record<string, FieldSpec> {
  const f = (description?: string): FieldSpec => ({
    dtype: "float64",
    shape: [],
    ...(description ? { description } : {}),
  });
  return {
    cell: { dtype: "int32", shape: [], description: "scan point index" },
    hv: f("high voltage (V); NaN in a position scan"),
    serial: { dtype: "string", shape: [] },
    status: { dtype: "string", shape: [], description: "ok, failed, no-data, or why the job gave no result" },
    gain: f("mu1 [pC] x 1e-12 / e; NaN unless ok"),
    gain_err: f(),
    events: f("events after the cuts"),
    triggers: f(),
    converged: { dtype: "bool", shape: [] },
    mu1: { dtype: "float64", shape: [], units: "pC" },
    mu1_err: { dtype: "float64", shape: [], units: "pC" },
    sigma1: { dtype: "float64", shape: [], units: "pC" },
    sigma1_err: { dtype: "float64", shape: [], units: "pC" },
    N1: f(),
    N2: f(),
    sigma2: { dtype: "float64", shape: [], units: "pC" },
    nll: f(),
    counts: { dtype: "float64", shape: [bins], description: "selected charges per bin" },
    edges: { dtype: "float64", shape: [bins + 1], units: "pC" },
    curve: { dtype: "float64", shape: [bins], description: "fitted counts per bin" },
  };
}

/** Expected counts per bin of the fitted model (yields inside the window, each Gaussian normalised there). */
export function pmtModelCurve(
  p: ArrayLike<number>,
  edges: ArrayLike<number>,
  [lo, hi]: readonly [number, number],
): number[] {
  const [n1, mu1, s1, n2, s2] = [p[0]!, p[1]!, p[2]!, p[3]!, p[4]!];
  const z1 = normalInterval((lo - mu1) / s1, (hi - mu1) / s1);
  const z2 = normalInterval((lo - 2 * mu1) / s2, (hi - 2 * mu1) / s2);
  const out: number[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const a = edges[i]!;
    const b = edges[i + 1]!;
    out.push(
      (n1 * normalInterval((a - mu1) / s1, (b - mu1) / s1)) / z1 +
        (n2 * normalInterval((a - 2 * mu1) / s2, (b - 2 * mu1) / s2)) / z2,
    );
  }
  return out;
}

/**
 * Selects 0.5 < Q < 4.5 pC and 321 < t < 330 ns, fits 1 PE + 2 PE (at 2 mu1) by extended unbinned likelihood and
 * returns the gain with its error, the histogram of the selected charges and the fitted curve.
 * @example const r = analysePmtPoint(charges, times); r.status === "ok" && r.gain;
 */
export function analysePmtPoint(
  chargePc: ArrayLike<number>,
  timeNs: ArrayLike<number>,
  o: PmtAnalysisOptions = PMT_ANALYSIS_DEFAULTS,
): PmtPointResult {
  const g = pmtGain(chargePc, {
    timesNs: timeNs,
    chargeWindowPc: o.chargeWindowPc,
    timeWindowNs: o.timeWindowNs,
    mu1RangePc: o.mu1RangePc,
    minEvents: o.minEvents,
  });
  const [qlo, qhi] = o.chargeWindowPc;
  const [tlo, thi] = o.timeWindowNs;
  const w = (qhi - qlo) / o.bins;
  const edges = Array.from({ length: o.bins + 1 }, (_, i) => qlo + i * w);
  const counts = new Array<number>(o.bins).fill(0);
  for (let i = 0; i < chargePc.length; i++) {
    const q = chargePc[i]!;
    const t = timeNs[i]!;
    if (!(q > qlo && q < qhi) || !(t > tlo && t < thi)) continue;
    counts[Math.min(o.bins - 1, Math.floor((q - qlo) / w))]! += 1;
  }
  const fit = g.status === "no-data" ? undefined : g.fit;
  // mu1 held at an edge of its range means the 1 PE peak lies outside it: no gain can be quoted.
  const [mlo, mhi] = o.mu1RangePc;
  const atEdge =
    fit !== undefined &&
    (fit.atBound.includes("mu1") ||
      fit.params[1]! <= mlo + 1e-6 * (mhi - mlo) ||
      fit.params[1]! >= mhi - 1e-6 * (mhi - mlo));
  const status = g.status === "ok" && atEdge ? "failed" : g.status;
  const par = (i: number) => (fit ? fit.params[i]! : NaN);
  const err = (i: number) => (fit ? fit.errors[i]! : NaN);
  return {
    status,
    gain: status === "ok" && g.status === "ok" ? g.gain : NaN,
    gain_err: status === "ok" && g.status === "ok" ? g.gainError : NaN,
    events: g.events,
    triggers: chargePc.length,
    converged: fit?.converged ?? false,
    mu1: par(1),
    mu1_err: err(1),
    sigma1: par(2),
    sigma1_err: err(2),
    N1: par(0),
    N2: par(3),
    sigma2: par(4),
    nll: fit ? fit.nll : NaN,
    counts,
    edges,
    curve: fit ? pmtModelCurve(fit.params, edges, o.chargeWindowPc) : new Array<number>(o.bins).fill(NaN),
    message:
      g.status !== "ok"
        ? g.reason
        : atEdge
          ? `mu1 = ${fit!.params[1]!.toFixed(3)} pC at the edge of [${mlo}, ${mhi}] pC: the 1 PE peak is outside the fit range`
          : "ok",
  };
}
