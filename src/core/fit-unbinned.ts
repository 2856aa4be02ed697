// Extended unbinned maximum-likelihood fit of two Gaussians in a window, and the R12860 PMT gain built on it.
import { ErrorCode, HutchError } from "./errors.js";
import { fitResultOf, invertSpd, minimiseLm, type FitResult, type Objective } from "./fit.js";
import { normalInterval, normalPdf } from "./stats.js";

/** Options of the unbinned two-Gaussian fit. */
export interface UnbinnedTwoGaussianOptions {
  /** Only values in [lo, hi] are fitted; the Gaussians are normalised inside it (default: no window). */
  readonly window?: readonly [number, number];
  /** Second mean = meanRatio x mu1 (default 2: the 2-photoelectron peak); `null` frees mu2. */
  readonly meanRatio?: number | null;
  /** Bounds of mu1 (e.g. [1, 2] pC); default: the window or the data's range. */
  readonly mu1Range?: readonly [number, number];
  /** Fewer values inside the window is an error (default 10). */
  readonly minEvents?: number;
  readonly p0?: ArrayLike<number>;
  readonly maxIterations?: number;
}

/** An unbinned fit: the FitResult (chi2 = 2 x NLL, ndf = 0) plus the NLL and the events used. */
export interface UnbinnedFitResult extends FitResult {
  /** Extended negative log-likelihood at the minimum. */
  readonly nll: number;
  /** Values inside the window that were fitted. */
  readonly events: number;
}

interface Shape {
  readonly lo: number;
  readonly hi: number;
}

/** Per-evaluation constants of a Gaussian normalised on the window: ln norm and d ln Z / d mean, d sigma. */
interface GaussTerms {
  m: number;
  s: number;
  lnNorm: number;
  dlnZdm: number;
  dlnZds: number;
}

function gaussTerms(m: number, s: number, w: Shape, out: GaussTerms): void {
  const za = (w.lo - m) / s;
  const zb = (w.hi - m) / s;
  const pa = Number.isFinite(za) ? normalPdf(za) : 0;
  const pb = Number.isFinite(zb) ? normalPdf(zb) : 0;
  const Z = Math.max(normalInterval(za, zb), 1e-300);
  out.m = m;
  out.s = s;
  out.lnNorm = -Math.log(s * Math.sqrt(2 * Math.PI)) - Math.log(Z);
  out.dlnZdm = (pa - pb) / s / Z;
  out.dlnZds = ((Number.isFinite(za) ? za * pa : 0) - (Number.isFinite(zb) ? zb * pb : 0)) / s / Z;
}

/** ln g(q) and its derivatives by mean and sigma into out[0..2]. */
function logGauss(q: number, t: GaussTerms, out: Float64Array): void {
  const z = (q - t.m) / t.s;
  out[0] = -0.5 * z * z + t.lnNorm;
  out[1] = z / t.s - t.dlnZdm;
  out[2] = (z * z - 1) / t.s - t.dlnZds;
}

function checkValues(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      throw new HutchError(
        ErrorCode.Validation,
        `${what}: value ${i} is ${values[i]}; all values must be finite`,
      );
    }
  }
}

/**
 * Extended unbinned likelihood fit of N1 x G(mu1, sigma1) + N2 x G(r mu1, sigma2) (parameters N1, mu1, sigma1,
 * N2, sigma2), or with free mu2 (N1, mu1, sigma1, N2, mu2, sigma2), both normalised inside the window.
 * Errors come from the exact Hessian of the NLL at the minimum.
 * @example const r = fitTwoGaussianUnbinned(charges, { window: [0.5, 4.5], mu1Range: [1, 2] });
 */
export function fitTwoGaussianUnbinned(
  values: ArrayLike<number>,
  opts: UnbinnedTwoGaussianOptions = {},
): UnbinnedFitResult {
  checkValues(values, "unbinned fit");
  const [lo, hi] = opts.window ?? [-Infinity, Infinity];
  if (!(hi > lo)) throw new HutchError(ErrorCode.Validation, `unbinned fit: window [${lo}, ${hi}] is empty`);
  const q = Float64Array.from(
    Array.prototype.filter.call(values, (v: number) => v >= lo && v <= hi) as number[],
  );
  const minEvents = opts.minEvents ?? 10;
  if (q.length < minEvents) {
    throw new HutchError(
      ErrorCode.Validation,
      `unbinned fit: ${q.length} values inside [${lo}, ${hi}], need at least ${minEvents}`,
    );
  }
  const r = opts.meanRatio === undefined ? 2 : opts.meanRatio;
  const linked = r !== null;
  const np = linked ? 5 : 6;
  const names = linked
    ? ["N1", "mu1", "sigma1", "N2", "sigma2"]
    : ["N1", "mu1", "sigma1", "N2", "mu2", "sigma2"];
  let dmin = Infinity,
    dmax = -Infinity;
  for (const v of q) {
    dmin = Math.min(dmin, v);
    dmax = Math.max(dmax, v);
  }
  const span = Math.max(dmax - dmin, 1e-12);
  const [m1lo, m1hi] = opts.mu1Range ?? [Number.isFinite(lo) ? lo : dmin, Number.isFinite(hi) ? hi : dmax];
  const n = q.length;
  const sMin = 1e-4 * span;
  const lower = linked ? [0, m1lo, sMin, 0, sMin] : [0, m1lo, sMin, 0, dmin, sMin];
  const upper = linked ? [10 * n, m1hi, span, 10 * n, span] : [10 * n, m1hi, span, 10 * n, dmax, span];
  const win: Shape = { lo, hi };
  const obj = likelihood(q, win, linked ? r : null, np);
  const p0 = opts.p0 ? Float64Array.from(opts.p0) : startValues(obj, q, linked ? r : null, m1lo, m1hi);
  const out = minimiseLm(obj, p0, { lower, upper, maxIterations: opts.maxIterations ?? 200 });
  const hess = numericHessian(
    obj,
    out.p,
    Float64Array.from(upper).map((u, i) => u - lower[i]!),
  );
  const exact = hess && invertSpd(hess, np) ? hess : undefined;
  const res = fitResultOf(names, out, 0, exact ? { covarianceCurv: exact } : {});
  return { ...res, nll: out.value / 2, events: n };
}

/** The extended NLL as an Objective: F = 2 NLL, grad = dNLL/dp, curv = sum of score outer products. */
function likelihood(q: Float64Array, win: Shape, r: number | null, np: number): Objective {
  const g1 = new Float64Array(3);
  const g2 = new Float64Array(3);
  const t1: GaussTerms = { m: 0, s: 1, lnNorm: 0, dlnZdm: 0, dlnZds: 0 };
  const t2: GaussTerms = { ...t1 };
  const dl = new Float64Array(np);
  return {
    np,
    evaluate(p, grad, curv) {
      const [n1, m1, s1, n2] = [p[0]!, p[1]!, p[2]!, p[3]!];
      const m2 = r !== null ? r * m1 : p[4]!;
      const s2 = r !== null ? p[4]! : p[5]!;
      grad?.fill(0);
      curv?.fill(0);
      gaussTerms(m1, s1, win, t1);
      gaussTerms(m2, s2, win, t2);
      let nll = n1 + n2;
      for (let i = 0; i < q.length; i++) {
        logGauss(q[i]!, t1, g1);
        logGauss(q[i]!, t2, g2);
        const e1 = Math.exp(g1[0]!);
        const e2 = Math.exp(g2[0]!);
        const a = n1 * e1;
        const b = n2 * e2;
        const lam = a + b;
        if (!(lam > 0)) return Infinity;
        nll -= Math.log(lam);
        if (!grad || !curv) continue;
        // d lambda / d p, divided by lambda: the per-event score.
        dl[0] = e1 / lam;
        dl[1] = (a * g1[1]! + (r !== null ? r * b * g2[1]! : 0)) / lam;
        dl[2] = (a * g1[2]!) / lam;
        dl[3] = e2 / lam;
        if (r !== null) dl[4] = (b * g2[2]!) / lam;
        else {
          dl[4] = (b * g2[1]!) / lam;
          dl[5] = (b * g2[2]!) / lam;
        }
        for (let j = 0; j < np; j++) {
          grad[j] = grad[j]! - dl[j]!;
          for (let k = 0; k <= j; k++) curv[j * np + k] = curv[j * np + k]! + dl[j]! * dl[k]!;
        }
      }
      if (grad) {
        grad[0] = grad[0]! + 1;
        grad[3] = grad[3]! + 1;
      }
      if (curv)
        for (let j = 0; j < np; j++) for (let k = j + 1; k < np; k++) curv[j * np + k] = curv[k * np + j]!;
      return 2 * nll;
    },
  };
}

/** Start values: the best mu1 on a grid inside its bounds, with 70/30 yields and sigma = 30 % of the mean. */
function startValues(
  obj: Objective,
  q: Float64Array,
  r: number | null,
  m1lo: number,
  m1hi: number,
): Float64Array {
  const n = q.length;
  const sorted = Float64Array.from(q).sort();
  const quant = (f: number) => sorted[Math.min(n - 1, Math.floor(f * n))]!;
  if (r === null) {
    const iqr = Math.max(quant(0.75) - quant(0.25), 1e-6);
    const m1 = Math.min(m1hi, Math.max(m1lo, quant(0.25)));
    return Float64Array.of(0.5 * n, m1, iqr / 2, 0.5 * n, quant(0.75), iqr / 2);
  }
  let best: Float64Array | undefined;
  let bestV = Infinity;
  for (let k = 0; k <= 12; k++) {
    const m1 = m1lo + ((m1hi - m1lo) * k) / 12;
    const s1 = Math.max(0.3 * Math.abs(m1), 1e-3 * (sorted[n - 1]! - sorted[0]! || 1));
    const p = Float64Array.of(0.7 * n, m1, s1, 0.3 * n, s1 * Math.SQRT2);
    const v = obj.evaluate(p);
    if (v < bestV) {
      bestV = v;
      best = p;
    }
  }
  return (
    best ?? Float64Array.of(0.7 * n, m1lo, 0.3 * Math.abs(m1lo) || 1, 0.3 * n, 0.42 * Math.abs(m1lo) || 1)
  );
}

/** Hessian of NLL (= d grad / dp) by central differences of the analytic gradient, symmetrised. */
function numericHessian(obj: Objective, p: Float64Array, scales: Float64Array): Float64Array | undefined {
  const np = obj.np;
  const h = new Float64Array(np * np);
  const gp = new Float64Array(np);
  const gm = new Float64Array(np);
  const scratch = new Float64Array(np * np);
  const x = Float64Array.from(p);
  for (let k = 0; k < np; k++) {
    const step =
      1e-5 *
      Math.max(Math.abs(p[k]!), Math.min(1, Number.isFinite(scales[k]!) ? scales[k]! : 1) * 1e-2, 1e-8);
    x[k] = p[k]! + step;
    obj.evaluate(x, gp, scratch);
    x[k] = p[k]! - step;
    obj.evaluate(x, gm, scratch);
    x[k] = p[k]!;
    for (let j = 0; j < np; j++) h[j * np + k] = (gp[j]! - gm[j]!) / (2 * step);
  }
  for (let j = 0; j < np; j++) {
    for (let k = j + 1; k < np; k++) {
      const s = 0.5 * (h[j * np + k]! + h[k * np + j]!);
      h[j * np + k] = s;
      h[k * np + j] = s;
    }
  }
  return h.every((v) => Number.isFinite(v)) ? h : undefined;
}

/** The elementary charge in coulomb (exact, SI 2019). */
export const ELEMENTARY_CHARGE_C = 1.602176634e-19;

/** Gain of a PMT from its single-photoelectron charge: mu1 [pC] x 1e-12 / e. */
export function gainFromCharge(mu1Pc: number): number {
  return (mu1Pc * 1e-12) / ELEMENTARY_CHARGE_C;
}

/** The R12860 analysis defaults (FACTS.md section 4). */
export const PMT_GAIN_DEFAULTS = {
  chargeWindowPc: [0.5, 4.5],
  timeWindowNs: [321, 330],
  mu1RangePc: [1, 2],
  minEvents: 10,
} as const;

/** The gain of one scan point: a value with its error, "no-data" (too few events), or "failed" (no convergence). */
export type PmtGainResult =
  | {
      readonly status: "ok";
      readonly gain: number;
      readonly gainError: number;
      readonly events: number;
      readonly fit: UnbinnedFitResult;
    }
  | {
      readonly status: "failed";
      readonly events: number;
      readonly reason: string;
      readonly fit: UnbinnedFitResult;
    }
  | { readonly status: "no-data"; readonly events: number; readonly reason: string };

/**
 * The R12860 gain: selects 0.5 < Q < 4.5 pC (and, given `timesNs`, 321 < t < 330 ns), fits 1 PE at mu1 in
 * [1, 2] pC plus 2 PE at 2 mu1 by extended unbinned likelihood, and returns gain = mu1 x 1e-12 / e.
 * Fewer than 10 selected events gives `no-data`, never a gain of 0.
 * @example const g = pmtGain(chargesPc); if (g.status === "ok") console.log(g.gain, g.gainError);
 */
export function pmtGain(
  chargesPc: ArrayLike<number>,
  opts: {
    timesNs?: ArrayLike<number>;
    chargeWindowPc?: readonly [number, number];
    timeWindowNs?: readonly [number, number];
    mu1RangePc?: readonly [number, number];
    minEvents?: number;
  } = {},
): PmtGainResult {
  const [qlo, qhi] = opts.chargeWindowPc ?? PMT_GAIN_DEFAULTS.chargeWindowPc;
  const [tlo, thi] = opts.timeWindowNs ?? PMT_GAIN_DEFAULTS.timeWindowNs;
  const minEvents = opts.minEvents ?? PMT_GAIN_DEFAULTS.minEvents;
  const t = opts.timesNs;
  if (t && t.length !== chargesPc.length) {
    throw new HutchError(ErrorCode.Validation, `pmtGain: ${chargesPc.length} charges but ${t.length} times`);
  }
  const sel: number[] = [];
  for (let i = 0; i < chargesPc.length; i++) {
    const qv = chargesPc[i]!;
    if (!(qv > qlo && qv < qhi)) continue; // NaN fails this test and is left out
    if (t && !(t[i]! > tlo && t[i]! < thi)) continue;
    sel.push(qv);
  }
  if (sel.length < minEvents) {
    return {
      status: "no-data",
      events: sel.length,
      reason: `${sel.length} events selected, need at least ${minEvents}`,
    };
  }
  const fit = fitTwoGaussianUnbinned(sel, {
    window: [qlo, qhi],
    meanRatio: 2,
    mu1Range: opts.mu1RangePc ?? PMT_GAIN_DEFAULTS.mu1RangePc,
    minEvents,
  });
  if (!fit.converged) return { status: "failed", events: sel.length, reason: fit.message, fit };
  return {
    status: "ok",
    gain: gainFromCharge(fit.params[1]!),
    gainError: gainFromCharge(fit.errors[1]!),
    events: sel.length,
    fit,
  };
}
