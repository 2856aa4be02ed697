// Running statistics on typed arrays: Welford mean/variance, elementwise frame averages, the normal CDF, a seeded RNG.
import { ErrorCode, HutchError } from "./errors.js";

/**
 * Mean, variance, min and max of a stream of numbers, updated one value or one batch at a time (Welford's
 * algorithm; batches merge with Chan's formula), so precision holds for millions of values near a large offset.
 * Non-finite values are counted in `invalid` and left out.
 * @example const s = new RunningStats(); s.addBatch(new Float64Array([1, 2, 3])); s.mean; // 2
 */
export class RunningStats {
  count = 0;
  mean = 0;
  /** Sum of squared deviations from the mean. */
  m2 = 0;
  min = Infinity;
  max = -Infinity;
  invalid = 0;

  /** Adds one value. */
  add(x: number): void {
    if (!Number.isFinite(x)) {
      this.invalid++;
      return;
    }
    this.count++;
    const d = x - this.mean;
    this.mean += d / this.count;
    this.m2 += d * (x - this.mean);
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
  }

  /** Adds `values[start..end)` whose `mask` entry (if given) is non-zero. */
  addBatch(values: ArrayLike<number>, mask?: ArrayLike<number>, start = 0, end = values.length): void {
    // Two passes over the batch (its own mean, then deviations), then one merge: exact and fast.
    let n = 0;
    let sum = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = start; i < end; i++) {
      if (mask && !mask[i]) continue;
      const x = values[i]!;
      if (!Number.isFinite(x)) {
        this.invalid++;
        continue;
      }
      n++;
      sum += x;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    if (n === 0) return;
    const mean = sum / n;
    let m2 = 0;
    for (let i = start; i < end; i++) {
      if (mask && !mask[i]) continue;
      const x = values[i]!;
      if (Number.isFinite(x)) m2 += (x - mean) * (x - mean);
    }
    this.mergeMoments(n, mean, m2, lo, hi);
  }

  /** Merges another accumulator into this one (as if its values had been added here). */
  merge(other: RunningStats): void {
    this.invalid += other.invalid;
    if (other.count > 0) this.mergeMoments(other.count, other.mean, other.m2, other.min, other.max);
  }

  /** Unbiased sample variance (n-1); NaN with fewer than 2 values. */
  get variance(): number {
    return this.count > 1 ? this.m2 / (this.count - 1) : NaN;
  }

  /** Sample standard deviation. */
  get std(): number {
    return Math.sqrt(this.variance);
  }

  /** Standard error of the mean: std / sqrt(n). */
  get sem(): number {
    return this.std / Math.sqrt(this.count);
  }

  reset(): void {
    this.count = 0;
    this.mean = 0;
    this.m2 = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.invalid = 0;
  }

  private mergeMoments(n: number, mean: number, m2: number, lo: number, hi: number): void {
    const total = this.count + n;
    const d = mean - this.mean;
    this.mean += (d * n) / total;
    this.m2 += m2 + (d * d * this.count * n) / total;
    this.count = total;
    if (lo < this.min) this.min = lo;
    if (hi > this.max) this.max = hi;
  }
}

/**
 * Elementwise mean (and optionally variance) of equally sized frames, e.g. the running average of detector
 * images since the run began. Incremental and exact to rounding (Welford per element), never a sum that grows.
 * @example const a = new RunningArrayStats(512 * 1024); a.add(frame); a.mean; // Float64Array
 */
export class RunningArrayStats {
  count = 0;
  readonly mean: Float64Array;
  /** Per-element sum of squared deviations; only kept when `withVariance`. */
  readonly m2: Float64Array | undefined;

  constructor(
    readonly size: number,
    opts: { withVariance?: boolean } = {},
  ) {
    if (!Number.isInteger(size) || size < 1) {
      throw new HutchError(ErrorCode.Validation, `frame size must be an integer >= 1, got ${size}`);
    }
    this.mean = new Float64Array(size);
    this.m2 = opts.withVariance ? new Float64Array(size) : undefined;
  }

  /** Adds the frame `data[offset .. offset+size)`. */
  add(data: ArrayLike<number>, offset = 0): void {
    if (offset < 0 || offset + this.size > data.length) {
      throw new HutchError(
        ErrorCode.Validation,
        `frame of ${this.size} elements at offset ${offset} exceeds an array of ${data.length}`,
      );
    }
    this.count++;
    const inv = 1 / this.count;
    const mean = this.mean;
    const m2 = this.m2;
    if (m2) {
      for (let i = 0; i < this.size; i++) {
        const x = data[offset + i]!;
        const d = x - mean[i]!;
        mean[i] = mean[i]! + d * inv;
        m2[i] = m2[i]! + d * (x - mean[i]!);
      }
    } else {
      for (let i = 0; i < this.size; i++) mean[i] = mean[i]! + (data[offset + i]! - mean[i]!) * inv;
    }
  }

  /** Sample variance per element (n-1) into `out`; NaN with fewer than 2 frames or without `withVariance`. */
  variance(out: Float64Array = new Float64Array(this.size)): Float64Array {
    const m2 = this.m2;
    for (let i = 0; i < this.size; i++) out[i] = m2 && this.count > 1 ? m2[i]! / (this.count - 1) : NaN;
    return out;
  }

  reset(): void {
    this.count = 0;
    this.mean.fill(0);
    this.m2?.fill(0);
  }
}

/**
 * Elementwise mean of the last `frames` frames (e.g. "averaged image over 10 frames"). Keeps the frames in a ring
 * and a float64 sum; the sum is recomputed from the ring once per ring turn, so rounding cannot drift.
 * @example const w = new WindowedArrayMean(4, 10); w.add(frame); w.mean(); // over the last <= 10 frames
 */
export class WindowedArrayMean {
  private readonly ring: Float64Array[] | Float32Array[];
  private readonly sum: Float64Array;
  private next = 0;
  private filled = 0;
  private sinceRecompute = 0;

  /** `float32` storage halves the memory and is exact for inputs of up to 24-bit integers and float32. */
  constructor(
    readonly size: number,
    readonly frames: number,
    storage: "float32" | "float64" = "float64",
  ) {
    if (!Number.isInteger(frames) || frames < 1) {
      throw new HutchError(ErrorCode.Validation, `window must be an integer >= 1 frames, got ${frames}`);
    }
    const C = storage === "float32" ? Float32Array : Float64Array;
    this.ring = Array.from({ length: frames }, () => new C(size)) as Float64Array[] | Float32Array[];
    this.sum = new Float64Array(size);
  }

  /** Frames currently in the window. */
  get count(): number {
    return this.filled;
  }

  /** Adds the frame `data[offset .. offset+size)`, pushing out the oldest when the window is full. */
  add(data: ArrayLike<number>, offset = 0): void {
    if (offset < 0 || offset + this.size > data.length) {
      throw new HutchError(
        ErrorCode.Validation,
        `frame of ${this.size} elements at offset ${offset} exceeds an array of ${data.length}`,
      );
    }
    const slot = this.ring[this.next]!;
    const full = this.filled === this.frames;
    const sum = this.sum;
    for (let i = 0; i < this.size; i++) {
      const old = full ? slot[i]! : 0;
      slot[i] = data[offset + i]!;
      // Add what the slot holds (rounded to its storage type), so the sum matches the ring exactly.
      sum[i] = sum[i]! + slot[i]! - old;
    }
    this.next = (this.next + 1) % this.frames;
    if (!full) this.filled++;
    if (++this.sinceRecompute >= this.frames) this.recompute();
  }

  /** The mean of the frames in the window into `out` (zeros when empty). */
  mean(out: Float64Array = new Float64Array(this.size)): Float64Array {
    const inv = this.filled > 0 ? 1 / this.filled : 0;
    for (let i = 0; i < this.size; i++) out[i] = this.sum[i]! * inv;
    return out;
  }

  reset(): void {
    this.filled = 0;
    this.next = 0;
    this.sinceRecompute = 0;
    this.sum.fill(0);
  }

  private recompute(): void {
    this.sinceRecompute = 0;
    this.sum.fill(0);
    for (let k = 0; k < this.filled; k++) {
      const f = this.ring[k]!;
      for (let i = 0; i < this.size; i++) this.sum[i] = this.sum[i]! + f[i]!;
    }
  }
}

/** erfc(x) for x >= 0 to ~1e-15 relative: a positive-term series below 2, a continued fraction above. */
function erfcPositive(x: number): number {
  if (x < 2) {
    // erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)): every term positive, no cancellation.
    let term = x;
    let sum = x;
    const x2 = 2 * x * x;
    for (let k = 1; k < 200 && term > 1e-17 * sum; k++) {
      term *= x2 / (2 * k + 1);
      sum += term;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated bottom-up.
  let f = x;
  const terms = x > 6 ? 24 : x > 4 ? 48 : 120; // enough for 1e-15 at each range
  for (let k = terms; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** The complementary error function. */
export function erfc(x: number): number {
  return x >= 0 ? erfcPositive(x) : 2 - erfcPositive(-x);
}

/** The error function. */
export function erf(x: number): number {
  return x >= 0 ? 1 - erfcPositive(x) : erfcPositive(-x) - 1;
}

/** The standard normal CDF Phi(z), accurate in both tails. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** P(a < Z < b) for a standard normal Z, from the smaller tails, so intervals far out keep their precision. */
export function normalInterval(a: number, b: number): number {
  if (a >= 0) return normalCdf(-a) - normalCdf(-b);
  if (b <= 0) return normalCdf(b) - normalCdf(a);
  return 1 - normalCdf(a) - normalCdf(-b);
}

/** The standard normal density phi(z). */
export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}

/** A seeded pseudo-random source for simulators and tests (mulberry32; not for cryptography). */
export interface Rng {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Normal with the given mean and standard deviation (Box-Muller). */
  normal(mean?: number, std?: number): number;
  /** Poisson with mean `lambda` (multiplication below 30, Hoermann's PTRS above). */
  poisson(lambda: number): number;
}

/** ln(k!) for integer k >= 0: exact sums below 20, Stirling's series above (error < 1e-13). */
export function logFactorial(k: number): number {
  if (k < 20) {
    let s = 0;
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  }
  const x = k + 1;
  return (
    (x - 0.5) * Math.log(x) -
    x +
    0.5 * Math.log(2 * Math.PI) +
    1 / (12 * x) -
    1 / (360 * x ** 3) +
    1 / (1260 * x ** 5)
  );
}

/**
 * A reproducible random source: the same seed gives the same sequence on every platform.
 * @example const rng = seededRng(42); rng.normal(1.6, 0.4);
 */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  let spare: number | undefined;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (mean = 0, std = 1): number => {
    if (spare !== undefined) {
      const z = spare;
      spare = undefined;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const phi = 2 * Math.PI * uniform();
    spare = r * Math.sin(phi);
    return mean + std * r * Math.cos(phi);
  };
  const poisson = (lambda: number): number => {
    if (!(lambda >= 0) || !Number.isFinite(lambda)) {
      throw new HutchError(ErrorCode.Validation, `poisson mean must be finite and >= 0, got ${lambda}`);
    }
    if (lambda < 30) {
      const limit = Math.exp(-lambda);
      let k = 0;
      for (let prod = uniform(); prod > limit; prod *= uniform()) k++;
      return k;
    }
    // PTRS: transformed rejection with squeeze (W. Hoermann, 1993), as in numpy.
    const slam = Math.sqrt(lambda);
    const loglam = Math.log(lambda);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invalpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = uniform() - 0.5;
      const v = uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (
        Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <=
        -lambda + k * loglam - logFactorial(k)
      ) {
        return k;
      }
    }
  };
  return { uniform, normal, poisson };
}
