// A small fitter: Levenberg-Marquardt with weights, bounds and covariance; weighted curve and straight-line fits.
import { ErrorCode, HutchError } from "./errors.js";

/** What every fit returns. Parameter `i` is `names[i]`; `covariance` is row-major `np x np`. */
export interface FitResult {
  readonly names: readonly string[];
  readonly params: Float64Array;
  /** sqrt(diag(covariance)); NaN when the curvature matrix is singular. */
  readonly errors: Float64Array;
  readonly covariance: Float64Array;
  /** Weighted sum of squares (least squares), Baker-Cousins deviance (binned Poisson) or 2 x NLL (unbinned). */
  readonly chi2: number;
  /** Degrees of freedom: points (or non-empty bins) minus free parameters; 0 for unbinned fits. */
  readonly ndf: number;
  /** True when the estimated distance to the minimum fell below tolerance with a usable covariance. */
  readonly converged: boolean;
  readonly iterations: number;
  /** Why the fit stopped, in words. */
  readonly message: string;
  /** Names of parameters that ended on a bound (their errors are not meaningful). */
  readonly atBound: readonly string[];
}

/**
 * The objective of a fit, in the form Levenberg-Marquardt needs. `evaluate(p)` returns F(p) and, when `grad`
 * and `curv` are given, fills grad = dF/dp / 2 and curv = an approximation of the Hessian of F / 2
 * (Gauss-Newton / Fisher), row-major. F is chi2-like: its minimum's covariance is curv^-1.
 */
export interface Objective {
  readonly np: number;
  evaluate(p: Float64Array, grad?: Float64Array, curv?: Float64Array): number;
}

/** Options of the minimiser. */
export interface LmOptions {
  readonly lower?: ArrayLike<number>;
  readonly upper?: ArrayLike<number>;
  /** Stop when the estimated distance to the minimum (in units of F) is below this (default 1e-9). */
  readonly tolerance?: number;
  readonly maxIterations?: number;
}

/** Result of the minimiser before it is dressed as a FitResult. */
export interface LmOutcome {
  readonly p: Float64Array;
  readonly value: number;
  readonly curv: Float64Array;
  readonly converged: boolean;
  readonly iterations: number;
  readonly message: string;
  readonly active: boolean[];
}

/** Cholesky factorisation of the leading `n x n` of a symmetric matrix in place (lower); false if not positive. */
function cholesky(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= a[j * n + k]! ** 2;
    if (!(d > 0)) return false;
    const l = Math.sqrt(d);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= a[i * n + k]! * a[j * n + k]!;
      a[i * n + j] = s / l;
    }
  }
  return true;
}

/** Solves L L^T x = b in place for a factor from `cholesky`. */
function cholSolve(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * b[k]!;
    b[i] = s / l[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * b[k]!;
    b[i] = s / l[i * n + i]!;
  }
}

/** Inverse of a symmetric positive-definite matrix (row-major), or undefined when it is not. */
export function invertSpd(m: ArrayLike<number>, n: number): Float64Array | undefined {
  const l = Float64Array.from(m);
  if (!cholesky(l, n)) return undefined;
  const inv = new Float64Array(n * n);
  const col = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    col.fill(0);
    col[j] = 1;
    cholSolve(l, n, col);
    for (let i = 0; i < n; i++) inv[i * n + j] = col[i]!;
  }
  return inv;
}

/**
 * Minimises an Objective with Levenberg-Marquardt, keeping parameters inside bounds (a parameter held at a bound
 * by the gradient is frozen for that step). Converges on the estimated distance to minimum grad^T curv^-1 grad.
 */
export function minimiseLm(obj: Objective, p0: ArrayLike<number>, opts: LmOptions = {}): LmOutcome {
  const np = obj.np;
  const lower = opts.lower ?? new Float64Array(np).fill(-Infinity);
  const upper = opts.upper ?? new Float64Array(np).fill(Infinity);
  const tol = opts.tolerance ?? 1e-9;
  const maxIt = opts.maxIterations ?? 200;
  const clamp = (p: Float64Array) => {
    for (let i = 0; i < np; i++) p[i] = Math.min(upper[i]!, Math.max(lower[i]!, p[i]!));
  };
  const p = Float64Array.from(p0);
  clamp(p);
  const grad = new Float64Array(np);
  const curv = new Float64Array(np * np);
  let value = obj.evaluate(p, grad, curv);
  if (!Number.isFinite(value)) {
    return {
      p,
      value,
      curv,
      converged: false,
      iterations: 0,
      message: "objective is not finite at the start values",
      active: [],
    };
  }
  let lambda = 1e-3;
  const trial = new Float64Array(np);
  const a = new Float64Array(np * np);
  const step = new Float64Array(np);
  let active: boolean[] = [];
  for (let it = 1; it <= maxIt; it++) {
    // Parameters at a bound whose gradient pushes outward stay put this step.
    active = Array.from(
      { length: np },
      (_, i) => (p[i]! <= lower[i]! && grad[i]! > 0) || (p[i]! >= upper[i]! && grad[i]! < 0),
    );
    const free = [...Array(np).keys()].filter((i) => !active[i]);
    const nf = free.length;
    // Distance to the minimum over the free parameters, from the undamped system.
    const edm = quadForm(curv, grad, free, np, 0, a, step);
    if (edm !== undefined && edm < tol) {
      return { p, value, curv, converged: true, iterations: it - 1, message: "converged", active };
    }
    for (;;) {
      const dx = solveDamped(curv, grad, free, np, lambda, a, step);
      if (dx) {
        trial.set(p);
        for (let k = 0; k < nf; k++) trial[free[k]!] = trial[free[k]!]! - step[k]!;
        clamp(trial);
        const tv = obj.evaluate(trial);
        if (Number.isFinite(tv) && tv <= value) {
          const gain = value - tv;
          p.set(trial);
          value = obj.evaluate(p, grad, curv);
          lambda = Math.max(lambda / 10, 1e-12);
          if (gain === 0 && edm !== undefined && edm < tol * 1e3) {
            return {
              p,
              value,
              curv,
              converged: true,
              iterations: it,
              message: "converged (no further decrease)",
              active,
            };
          }
          break;
        }
      }
      lambda *= 10;
      if (lambda > 1e12) {
        const ok = edm !== undefined && edm < tol * 1e3;
        const message = ok ? "converged (step too small to improve)" : "no step decreases the objective";
        return { p, value, curv, converged: ok, iterations: it, message, active };
      }
    }
  }
  return {
    p,
    value,
    curv,
    converged: false,
    iterations: maxIt,
    message: `no convergence in ${maxIt} iterations`,
    active,
  };
}

/** grad_free^T (curv_free + lambda diag)^-1 grad_free, or undefined when the system is not positive definite. */
function quadForm(
  curv: Float64Array,
  grad: Float64Array,
  free: number[],
  np: number,
  lambda: number,
  a: Float64Array,
  step: Float64Array,
): number | undefined {
  if (!solveDamped(curv, grad, free, np, lambda, a, step)) return undefined;
  let q = 0;
  for (let k = 0; k < free.length; k++) q += grad[free[k]!]! * step[k]!;
  return q;
}

/** Solves (curv + lambda diag(curv)) step = grad over the free parameters; false when not positive definite. */
function solveDamped(
  curv: Float64Array,
  grad: Float64Array,
  free: number[],
  np: number,
  lambda: number,
  a: Float64Array,
  step: Float64Array,
): boolean {
  const nf = free.length;
  if (nf === 0) return false;
  for (let r = 0; r < nf; r++) {
    for (let c = 0; c < nf; c++) a[r * nf + c] = curv[free[r]! * np + free[c]!]!;
    const d = a[r * nf + r]!;
    a[r * nf + r] = d + lambda * Math.max(d, 1e-300);
    step[r] = grad[free[r]!]!;
  }
  if (!cholesky(a, nf)) return false;
  cholSolve(a, nf, step);
  return true;
}

/** Turns a minimiser outcome into a FitResult: covariance = curv^-1 (times `scale`), errors, bound flags. */
export function fitResultOf(
  names: readonly string[],
  out: LmOutcome,
  ndf: number,
  opts: { scale?: number; covarianceCurv?: Float64Array } = {},
): FitResult {
  const np = names.length;
  const inv = invertSpd(opts.covarianceCurv ?? out.curv, np);
  const scale = opts.scale ?? 1;
  const covariance = inv ? inv.map((v) => v * scale) : new Float64Array(np * np).fill(NaN);
  const errors = new Float64Array(np);
  for (let i = 0; i < np; i++) errors[i] = Math.sqrt(covariance[i * np + i]!);
  const atBound = names.filter((_, i) => out.active[i]);
  const converged = out.converged && inv !== undefined && errors.every((e) => Number.isFinite(e));
  const message = inv ? out.message : `${out.message}; curvature matrix is singular, no errors`;
  return {
    names,
    params: out.p,
    errors,
    covariance,
    chi2: out.value,
    ndf,
    converged,
    iterations: out.iterations,
    message,
    atBound,
  };
}

/** Options of a curve fit. */
export interface CurveFitOptions extends LmOptions {
  readonly names?: readonly string[];
  /** Per-point standard deviations; without them all weights are 1 and errors are scaled by chi2/ndf. */
  readonly sigma?: ArrayLike<number>;
  /** Analytic derivatives d f(x, p) / d p_j into `out`; forward differences otherwise. */
  readonly jacobian?: (x: number, p: Float64Array, out: Float64Array) => void;
}

/**
 * Weighted least-squares fit of y = f(x, p): minimises sum((y - f)^2 / sigma^2) with Levenberg-Marquardt.
 * @example
 * const r = fitCurve(x, y, (x, p) => p[0]! * Math.exp(-p[1]! * x), [1, 0.1], { sigma });
 * r.params, r.errors, r.chi2 / r.ndf, r.converged;
 */
export function fitCurve(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  f: (x: number, p: Float64Array) => number,
  p0: ArrayLike<number>,
  opts: CurveFitOptions = {},
): FitResult {
  const n = x.length;
  const np = p0.length;
  if (y.length !== n)
    throw new HutchError(ErrorCode.Validation, `fitCurve: x has ${n} points but y has ${y.length}`);
  if (n <= np)
    throw new HutchError(ErrorCode.Validation, `fitCurve: ${n} points cannot determine ${np} parameters`);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = opts.sigma ? opts.sigma[i]! : 1;
    if (!(s > 0) || !Number.isFinite(s) || !Number.isFinite(x[i]!) || !Number.isFinite(y[i]!)) {
      throw new HutchError(
        ErrorCode.Validation,
        `fitCurve: point ${i} has x=${x[i]}, y=${y[i]}, sigma=${s}; need finite values and sigma > 0`,
      );
    }
    w[i] = 1 / (s * s);
  }
  const jrow = new Float64Array(np);
  const jac =
    opts.jacobian ??
    ((xi: number, p: Float64Array, out: Float64Array) => {
      const f0 = f(xi, p);
      for (let j = 0; j < np; j++) {
        const h = 1e-7 * Math.max(Math.abs(p[j]!), 1e-3);
        const keep = p[j]!;
        p[j] = keep + h;
        out[j] = (f(xi, p) - f0) / h;
        p[j] = keep;
      }
    });
  const obj: Objective = {
    np,
    evaluate(p, grad, curv) {
      grad?.fill(0);
      curv?.fill(0);
      let chi2 = 0;
      for (let i = 0; i < n; i++) {
        const r = y[i]! - f(x[i]!, p);
        chi2 += w[i]! * r * r;
        if (!grad || !curv) continue;
        jac(x[i]!, p, jrow);
        for (let a = 0; a < np; a++) {
          grad[a] = grad[a]! - w[i]! * r * jrow[a]!;
          for (let b = 0; b <= a; b++) curv[a * np + b] = curv[a * np + b]! + w[i]! * jrow[a]! * jrow[b]!;
        }
      }
      if (curv)
        for (let a = 0; a < np; a++) for (let b = a + 1; b < np; b++) curv[a * np + b] = curv[b * np + a]!;
      return chi2;
    },
  };
  const out = minimiseLm(obj, p0, opts);
  const ndf = n - np;
  const names = opts.names ?? Array.from({ length: np }, (_, i) => `p${i}`);
  return fitResultOf(names, out, ndf, { scale: opts.sigma ? 1 : out.value / ndf });
}

/** A straight-line fit y = intercept + slope * x. */
export interface LineFit {
  readonly slope: number;
  readonly intercept: number;
  readonly slopeError: number;
  readonly interceptError: number;
  /** Covariance of (intercept, slope). */
  readonly covariance: number;
  readonly chi2: number;
  readonly ndf: number;
}

/**
 * Closed-form weighted straight-line fit (e.g. log10(gain) vs log10(HV)). Without `sigma`, unit weights and errors
 * scaled by chi2/ndf. Needs at least 3 points with distinct x.
 */
export function fitLine(x: ArrayLike<number>, y: ArrayLike<number>, sigma?: ArrayLike<number>): LineFit {
  const n = x.length;
  if (y.length !== n)
    throw new HutchError(ErrorCode.Validation, `fitLine: x has ${n} points but y has ${y.length}`);
  if (n < 3) throw new HutchError(ErrorCode.Validation, `fitLine: need at least 3 points, got ${n}`);
  let s = 0,
    sx = 0,
    sy = 0,
    sxx = 0,
    sxy = 0;
  for (let i = 0; i < n; i++) {
    const sig = sigma ? sigma[i]! : 1;
    if (!(sig > 0) || !Number.isFinite(x[i]!) || !Number.isFinite(y[i]!)) {
      throw new HutchError(
        ErrorCode.Validation,
        `fitLine: point ${i} has x=${x[i]}, y=${y[i]}, sigma=${sig}`,
      );
    }
    const w = 1 / (sig * sig);
    s += w;
    sx += w * x[i]!;
    sy += w * y[i]!;
    sxx += w * x[i]! * x[i]!;
    sxy += w * x[i]! * y[i]!;
  }
  const det = s * sxx - sx * sx;
  if (!(Math.abs(det) > 1e-300 * s * sxx))
    throw new HutchError(ErrorCode.Validation, "fitLine: all x are equal");
  const slope = (s * sxy - sx * sy) / det;
  const intercept = (sxx * sy - sx * sxy) / det;
  let chi2 = 0;
  for (let i = 0; i < n; i++) {
    const sig = sigma ? sigma[i]! : 1;
    chi2 += ((y[i]! - intercept - slope * x[i]!) / sig) ** 2;
  }
  const ndf = n - 2;
  const scale = sigma ? 1 : chi2 / ndf;
  return {
    slope,
    intercept,
    slopeError: Math.sqrt((s / det) * scale),
    interceptError: Math.sqrt((sxx / det) * scale),
    covariance: (-sx / det) * scale,
    chi2,
    ndf,
  };
}
