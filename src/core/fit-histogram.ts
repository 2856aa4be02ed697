// Histogram fits: Gaussian and two-Gaussian models integrated over bins, fitted by Poisson likelihood or chi2.
import { ErrorCode, HutchError } from "./errors.js";
import { fitResultOf, minimiseLm, type FitResult, type Objective } from "./fit.js";
import { normalCdf, normalPdf } from "./stats.js";

/**
 * A model of expected counts per bin. `expected` fills `mu[i]` (bin i between edges[i] and edges[i+1]) and, when
 * `jac` is given, `jac[i * np + j] = d mu[i] / d p[j]`.
 */
export interface BinnedModel {
  readonly names: readonly string[];
  expected(edges: Float64Array, p: Float64Array, mu: Float64Array, jac?: Float64Array): void;
  /** Start values from the histogram. */
  guess(edges: Float64Array, counts: Float64Array): Float64Array;
  /** Physical bounds (yields >= 0, widths > 0). */
  bounds(edges: Float64Array): { lower: Float64Array; upper: Float64Array };
}

/** Adds N * (Phi(z_{i+1}) - Phi(z_i)) of one Gaussian to mu, and its derivatives to columns (cN, cMu, cSigma). */
function addGaussian(
  edges: Float64Array,
  n: number,
  mean: number,
  sigma: number,
  mu: Float64Array,
  jac: Float64Array | undefined,
  np: number,
  cols: readonly [number, number, number],
  meanFactor = 1,
): void {
  const bins = edges.length - 1;
  // Bin contents from the smaller tail at each edge, so far-tail bins keep their relative precision
  // (a difference of two CDF values near 1 would cancel to 0 while the derivative does not).
  let zPrev = (edges[0]! - mean) / sigma;
  let tPrev = normalCdf(-Math.abs(zPrev));
  let dPrev = normalPdf(zPrev);
  for (let i = 0; i < bins; i++) {
    const z = (edges[i + 1]! - mean) / sigma;
    const t = normalCdf(-Math.abs(z));
    const d = normalPdf(z);
    const frac = zPrev >= 0 ? tPrev - t : z <= 0 ? t - tPrev : 1 - tPrev - t;
    mu[i] = mu[i]! + n * frac;
    if (jac) {
      const row = i * np;
      jac[row + cols[0]] = jac[row + cols[0]]! + frac;
      jac[row + cols[1]] = jac[row + cols[1]]! + (meanFactor * n * (dPrev - d)) / sigma;
      jac[row + cols[2]] = jac[row + cols[2]]! + (n * (zPrev * dPrev - z * d)) / sigma;
    }
    zPrev = z;
    tPrev = t;
    dPrev = d;
  }
}

function histMoments(edges: Float64Array, counts: Float64Array): { n: number; mean: number; std: number } {
  let n = 0,
    s = 0,
    s2 = 0;
  for (let i = 0; i < counts.length; i++) {
    const x = 0.5 * (edges[i]! + edges[i + 1]!);
    n += counts[i]!;
    s += counts[i]! * x;
    s2 += counts[i]! * x * x;
  }
  const mean = s / n;
  const w = edges[edges.length - 1]! - edges[0]!;
  return { n, mean, std: Math.sqrt(Math.max(s2 / n - mean * mean, (w / counts.length) ** 2 / 12)) };
}

/** Local maxima of the 3-bin smoothed histogram, highest first, as bin indices. */
function peaks(counts: Float64Array): number[] {
  const m = counts.length;
  const sm = new Float64Array(m);
  for (let i = 0; i < m; i++)
    sm[i] = (counts[Math.max(0, i - 1)]! + 2 * counts[i]! + counts[Math.min(m - 1, i + 1)]!) / 4;
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    const l = i > 0 ? sm[i - 1]! : -Infinity;
    const r = i < m - 1 ? sm[i + 1]! : -Infinity;
    if (sm[i]! > 0 && sm[i]! >= l && sm[i]! > r) out.push(i);
  }
  return out.sort((a, b) => sm[b]! - sm[a]!);
}

function range(edges: Float64Array): number {
  return edges[edges.length - 1]! - edges[0]!;
}

/** One Gaussian: parameters N (events, integral over all x), mu, sigma. */
export const gaussianModel: BinnedModel = {
  names: ["N", "mu", "sigma"],
  expected(edges, p, mu, jac) {
    mu.fill(0);
    jac?.fill(0);
    addGaussian(edges, p[0]!, p[1]!, p[2]!, mu, jac, 3, [0, 1, 2]);
  },
  guess(edges, counts) {
    const m = histMoments(edges, counts);
    return Float64Array.of(m.n, m.mean, m.std);
  },
  bounds(edges) {
    const w = range(edges);
    return {
      lower: Float64Array.of(0, -Infinity, (1e-6 * w) / (edges.length - 1)),
      upper: Float64Array.of(Infinity, Infinity, 10 * w),
    };
  },
};

/**
 * Two Gaussians. Free means: parameters N1, mu1, sigma1, N2, mu2, sigma2. With `meanRatio` r, the second mean is
 * r x mu1 (e.g. 2 for the 2-photoelectron peak) and the parameters are N1, mu1, sigma1, N2, sigma2.
 */
export function twoGaussianModel(opts: { meanRatio?: number } = {}): BinnedModel {
  const r = opts.meanRatio;
  const linked = r !== undefined;
  const np = linked ? 5 : 6;
  const names = linked
    ? ["N1", "mu1", "sigma1", "N2", "sigma2"]
    : ["N1", "mu1", "sigma1", "N2", "mu2", "sigma2"];
  return {
    names,
    expected(edges, p, mu, jac) {
      mu.fill(0);
      jac?.fill(0);
      addGaussian(edges, p[0]!, p[1]!, p[2]!, mu, jac, np, [0, 1, 2]);
      if (linked) addGaussian(edges, p[3]!, r * p[1]!, p[4]!, mu, jac, np, [3, 1, 4], r);
      else addGaussian(edges, p[3]!, p[4]!, p[5]!, mu, jac, np, [3, 4, 5]);
    },
    guess(edges, counts) {
      const m = histMoments(edges, counts);
      const centre = (i: number) => 0.5 * (edges[i]! + edges[i + 1]!);
      const pk = peaks(counts);
      let mu1: number;
      let mu2: number;
      if (linked) {
        mu1 = pk.length > 0 ? centre(pk[0]!) : m.mean / ((1 + r) / 2);
        mu2 = r * mu1;
      } else if (pk.length >= 2) {
        [mu1, mu2] = [centre(pk[0]!), centre(pk[1]!)].sort((a, b) => a - b) as [number, number];
      } else {
        mu1 = m.mean - m.std / 2;
        mu2 = m.mean + m.std / 2;
      }
      const sigma = Math.max(Math.abs(mu2 - mu1) / 4, range(edges) / (edges.length - 1));
      return linked
        ? Float64Array.of(0.7 * m.n, mu1, sigma, 0.3 * m.n, sigma * Math.SQRT2)
        : Float64Array.of(0.5 * m.n, mu1, sigma, 0.5 * m.n, mu2, sigma);
    },
    bounds(edges) {
      const w = range(edges);
      const minS = (1e-6 * w) / (edges.length - 1);
      return linked
        ? {
            lower: Float64Array.of(0, -Infinity, minS, 0, minS),
            upper: Float64Array.of(Infinity, Infinity, 10 * w, Infinity, 10 * w),
          }
        : {
            lower: Float64Array.of(0, -Infinity, minS, 0, -Infinity, minS),
            upper: Float64Array.of(Infinity, Infinity, 10 * w, Infinity, Infinity, 10 * w),
          };
    },
  };
}

/** Options of a histogram fit. */
export interface HistogramFitOptions {
  readonly p0?: ArrayLike<number>;
  /** Bounds replacing the model's (e.g. mu1 in [1, 2] pC); NaN entries keep the model's bound. */
  readonly lower?: ArrayLike<number>;
  readonly upper?: ArrayLike<number>;
  /** Fit only bins lying entirely inside [lo, hi]. */
  readonly range?: readonly [number, number];
  /**
   * `poisson` (default): binned likelihood, unbiased even with few counts per bin; chi2 is the Baker-Cousins
   * deviance. `neyman`: least squares with sigma^2 = max(count, 1).
   */
  readonly method?: "poisson" | "neyman";
  readonly maxIterations?: number;
}

/**
 * Fits a model to a histogram (`counts[i]` between `edges[i]` and `edges[i+1]`).
 * @example
 * const r = fitHistogram(h.counts, h.edges(), gaussianModel);
 * r.params[1], r.errors[1], r.chi2 / r.ndf, r.converged;
 */
export function fitHistogram(
  counts: ArrayLike<number>,
  edges: ArrayLike<number>,
  model: BinnedModel,
  opts: HistogramFitOptions = {},
): FitResult {
  if (edges.length !== counts.length + 1) {
    throw new HutchError(
      ErrorCode.Validation,
      `fitHistogram: ${counts.length} bins need ${counts.length + 1} edges, got ${edges.length}`,
    );
  }
  for (let i = 0; i < counts.length; i++) {
    if (!(edges[i + 1]! > edges[i]!))
      throw new HutchError(
        ErrorCode.Validation,
        `fitHistogram: edges must increase, edge ${i + 1} is ${edges[i + 1]} after ${edges[i]}`,
      );
    if (!(counts[i]! >= 0) || !Number.isFinite(counts[i]!))
      throw new HutchError(
        ErrorCode.Validation,
        `fitHistogram: bin ${i} has count ${counts[i]}; counts must be finite and >= 0`,
      );
  }
  let first = 0;
  let last = counts.length;
  if (opts.range) {
    const [lo, hi] = opts.range;
    while (first < last && edges[first]! < lo) first++;
    while (last > first && edges[last]! > hi) last--;
  }
  const y = Float64Array.from({ length: last - first }, (_, i) => counts[first + i]!);
  const e = Float64Array.from({ length: last - first + 1 }, (_, i) => edges[first + i]!);
  const np = model.names.length;
  let nonEmpty = 0;
  for (const c of y) if (c > 0) nonEmpty++;
  if (nonEmpty <= np) {
    throw new HutchError(
      ErrorCode.Validation,
      `fitHistogram: ${nonEmpty} non-empty bins cannot determine ${np} parameters (${model.names.join(", ")})`,
    );
  }
  const b = model.bounds(e);
  const lower = b.lower.map((v, i) => (opts.lower && !Number.isNaN(opts.lower[i]!) ? opts.lower[i]! : v));
  const upper = b.upper.map((v, i) => (opts.upper && !Number.isNaN(opts.upper[i]!) ? opts.upper[i]! : v));
  const p0 = opts.p0 ? Float64Array.from(opts.p0) : model.guess(e, y);
  const obj = binnedObjective(model, e, y, opts.method ?? "poisson");
  const out = minimiseLm(obj, p0, { lower, upper, maxIterations: opts.maxIterations ?? 200 });
  return fitResultOf(model.names, out, nonEmpty - np);
}

/** The fit objective over bins: Poisson deviance or Neyman chi2, with Gauss-Newton curvature. */
function binnedObjective(
  model: BinnedModel,
  edges: Float64Array,
  y: Float64Array,
  method: "poisson" | "neyman",
): Objective {
  const bins = y.length;
  const np = model.names.length;
  const mu = new Float64Array(bins);
  const jac = new Float64Array(bins * np);
  return {
    np,
    evaluate(p, grad, curv) {
      const derivs = grad !== undefined && curv !== undefined;
      model.expected(edges, p, mu, derivs ? jac : undefined);
      grad?.fill(0);
      curv?.fill(0);
      let f = 0;
      for (let i = 0; i < bins; i++) {
        const yi = y[i]!;
        const m = Math.max(mu[i]!, 1e-300);
        let w: number;
        let r: number;
        if (method === "poisson") {
          f += 2 * (m - yi + (yi > 0 ? yi * Math.log(yi / m) : 0));
          w = 1 / m; // Fisher weight; with r = y - mu this is the Poisson score
          r = yi - m;
        } else {
          w = 1 / Math.max(yi, 1);
          r = yi - m;
          f += w * r * r;
        }
        if (!derivs) continue;
        const row = i * np;
        for (let a = 0; a < np; a++) {
          const ja = jac[row + a]!;
          grad[a] = grad[a]! - w * r * ja;
          for (let c = 0; c <= a; c++) curv[a * np + c] = curv[a * np + c]! + w * ja * jac[row + c]!;
        }
      }
      if (curv)
        for (let a = 0; a < np; a++) for (let c = a + 1; c < np; c++) curv[a * np + c] = curv[c * np + a]!;
      return f;
    },
  };
}

/** Expected counts per bin of a fitted model, e.g. the curve drawn over a histogram panel. */
export function modelCurve(
  model: BinnedModel,
  edges: ArrayLike<number>,
  params: ArrayLike<number>,
): Float64Array {
  const e = Float64Array.from(edges);
  const mu = new Float64Array(e.length - 1);
  model.expected(e, Float64Array.from(params), mu);
  return mu;
}
