// Histograms over typed arrays filled in batches: fixed bins (optionally over the last N values), auto-extending bins.
import { ErrorCode, HutchError } from "./errors.js";

/** Fixed binning: `bins` equal bins over the half-open range [lo, hi). */
export interface Binning {
  readonly bins: number;
  readonly lo: number;
  readonly hi: number;
}

/** Throws a HUTCH_ERR_VALIDATION error naming the problem when a binning is unusable. */
export function checkBinning(b: Binning, what = "histogram"): void {
  if (!Number.isInteger(b.bins) || b.bins < 1) {
    throw new HutchError(ErrorCode.Validation, `${what}: bins must be an integer >= 1, got ${b.bins}`);
  }
  if (!Number.isFinite(b.lo) || !Number.isFinite(b.hi) || !(b.hi > b.lo)) {
    throw new HutchError(ErrorCode.Validation, `${what}: need finite lo < hi, got lo=${b.lo} hi=${b.hi}`);
  }
}

/** Bin index of `x` in [lo, hi): -1 below, `bins` at or above `hi`, -2 for NaN. */
export function binIndex(x: number, lo: number, hi: number, bins: number): number {
  if (x >= lo && x < hi) {
    const i = Math.floor(((x - lo) / (hi - lo)) * bins);
    return i < bins ? i : bins - 1; // rounding can push x just below hi into bin `bins`
  }
  if (x < lo) return -1;
  if (x >= hi) return bins;
  return -2;
}

/** The `bins + 1` edges of a binning. */
export function binEdges(b: Binning, out: Float64Array = new Float64Array(b.bins + 1)): Float64Array {
  const w = (b.hi - b.lo) / b.bins;
  for (let i = 0; i <= b.bins; i++) out[i] = b.lo + i * w;
  out[b.bins] = b.hi;
  return out;
}

/** The `bins` centres of a binning. */
export function binCentres(b: Binning, out: Float64Array = new Float64Array(b.bins)): Float64Array {
  const w = (b.hi - b.lo) / b.bins;
  for (let i = 0; i < b.bins; i++) out[i] = b.lo + (i + 0.5) * w;
  return out;
}

/** Options of a fixed histogram. */
export interface HistogramOptions extends Binning {
  /** Keep only the last `window` values (e.g. "ADC histogram of the last 1000 packets"); unweighted only. */
  readonly window?: number;
}

/**
 * A 1-D histogram with fixed bins, filled from typed arrays. Counts under/overflow and NaN separately;
 * `mean`/`rms` are those of the in-range values. With `window`, values older than the last `window` are
 * subtracted again, so the histogram always shows the most recent values.
 * @example
 * const h = new Histogram({ bins: 100, lo: 0, hi: 1024 });
 * h.fill(adcValues); h.counts; // Float64Array(100)
 */
export class Histogram implements Binning {
  readonly bins: number;
  readonly lo: number;
  readonly hi: number;
  readonly counts: Float64Array;
  underflow = 0;
  overflow = 0;
  /** NaN values seen (never binned). */
  invalid = 0;
  private sumW = 0;
  private sumWX = 0;
  private sumWX2 = 0;
  private readonly ringValues: Float64Array | undefined;
  private ringNext = 0;
  private ringFilled = 0;

  constructor(opts: HistogramOptions) {
    checkBinning(opts);
    this.bins = opts.bins;
    this.lo = opts.lo;
    this.hi = opts.hi;
    this.counts = new Float64Array(opts.bins);
    if (opts.window !== undefined) {
      if (!Number.isInteger(opts.window) || opts.window < 1) {
        throw new HutchError(
          ErrorCode.Validation,
          `histogram window must be an integer >= 1, got ${opts.window}`,
        );
      }
      this.ringValues = new Float64Array(opts.window);
    }
  }

  /** Values currently counted (in range, under- and overflow; NaN excluded). */
  get entries(): number {
    let n = this.underflow + this.overflow;
    for (let i = 0; i < this.bins; i++) n += this.counts[i]!;
    return n;
  }

  /** Mean of the in-range values. */
  get mean(): number {
    return this.sumWX / this.sumW;
  }

  /** Standard deviation (population) of the in-range values. */
  get rms(): number {
    const m = this.sumWX / this.sumW;
    return Math.sqrt(Math.max(0, this.sumWX2 / this.sumW - m * m));
  }

  /**
   * Adds `values[start..end)`; entries whose `mask` is 0 are skipped; `weights` (same indexing) default to 1.
   * Returns the number of values taken.
   */
  fill(
    values: ArrayLike<number>,
    opts: { weights?: ArrayLike<number>; mask?: ArrayLike<number>; start?: number; end?: number } = {},
  ): number {
    const { weights, mask, start = 0, end = values.length } = opts;
    if (weights && this.ringValues) {
      throw new HutchError(ErrorCode.Validation, "a windowed histogram cannot take weights");
    }
    let taken = 0;
    for (let i = start; i < end; i++) {
      if (mask && !mask[i]) continue;
      const x = values[i]!;
      if (this.ringValues) this.pushWindow(x);
      else this.add(x, weights ? weights[i]! : 1);
      taken++;
    }
    return taken;
  }

  /** Adds one value with a weight (negative weights subtract). */
  add(x: number, w = 1): void {
    const i = binIndex(x, this.lo, this.hi, this.bins);
    if (i === -2) {
      if (w > 0) this.invalid++;
      return;
    }
    if (i < 0) this.underflow += w;
    else if (i >= this.bins) this.overflow += w;
    else {
      this.counts[i] = this.counts[i]! + w;
      this.sumW += w;
      this.sumWX += w * x;
      this.sumWX2 += w * x * x;
    }
  }

  /** The bin edges. */
  edges(out?: Float64Array): Float64Array {
    return binEdges(this, out);
  }

  /** The bin centres. */
  centres(out?: Float64Array): Float64Array {
    return binCentres(this, out);
  }

  reset(): void {
    this.counts.fill(0);
    this.underflow = 0;
    this.overflow = 0;
    this.invalid = 0;
    this.sumW = 0;
    this.sumWX = 0;
    this.sumWX2 = 0;
    this.ringNext = 0;
    this.ringFilled = 0;
  }

  private pushWindow(x: number): void {
    const ring = this.ringValues!;
    if (Number.isNaN(x)) {
      this.invalid++;
      return;
    }
    if (this.ringFilled === ring.length) this.add(ring[this.ringNext]!, -1);
    else this.ringFilled++;
    ring[this.ringNext] = x;
    this.ringNext = (this.ringNext + 1) % ring.length;
    this.add(x, 1);
    // Sums of subtracted values drift by rounding; recompute them from the ring once per turn.
    if (this.ringNext === 0) this.recomputeSums();
  }

  private recomputeSums(): void {
    const ring = this.ringValues!;
    let w = 0;
    let wx = 0;
    let wx2 = 0;
    for (let k = 0; k < this.ringFilled; k++) {
      const x = ring[k]!;
      if (x >= this.lo && x < this.hi) {
        w++;
        wx += x;
        wx2 += x * x;
      }
    }
    this.sumW = w;
    this.sumWX = wx;
    this.sumWX2 = wx2;
  }
}

/** Options of an auto-binning histogram. */
export interface AutoHistogramOptions {
  /** Number of bins; must be even, since extending the range merges pairs of bins. */
  readonly bins: number;
  /** Integer data (ADC counts): bins have integer widths with edges at k - 0.5, so no bin straddles values. */
  readonly integer?: boolean;
}

/**
 * A histogram whose range is set by the first batch and doubles (merging pairs of bins, which is exact) whenever
 * a value falls outside, so nothing is ever lost to under/overflow. ±Infinity and NaN are counted as invalid.
 * @example const h = new AutoHistogram({ bins: 64 }); h.fill(charges); h.lo, h.hi, h.counts;
 */
export class AutoHistogram implements Binning {
  readonly bins: number;
  readonly integer: boolean;
  lo = NaN;
  hi = NaN;
  readonly counts: Float64Array;
  invalid = 0;

  constructor(opts: AutoHistogramOptions) {
    if (!Number.isInteger(opts.bins) || opts.bins < 2 || opts.bins % 2 !== 0) {
      throw new HutchError(
        ErrorCode.Validation,
        `auto histogram: bins must be an even integer >= 2, got ${opts.bins}`,
      );
    }
    this.bins = opts.bins;
    this.integer = opts.integer ?? false;
    this.counts = new Float64Array(opts.bins);
  }

  /** True once the first finite value fixed a range. */
  get hasRange(): boolean {
    return !Number.isNaN(this.lo);
  }

  /** Sum of all counts. */
  get entries(): number {
    let n = 0;
    for (let i = 0; i < this.bins; i++) n += this.counts[i]!;
    return n;
  }

  /** Adds `values[start..end)` (skipping entries whose `mask` is 0); returns the number binned. */
  fill(
    values: ArrayLike<number>,
    opts: { mask?: ArrayLike<number>; start?: number; end?: number } = {},
  ): number {
    const { mask, start = 0, end = values.length } = opts;
    // First pass: the finite extremes of the batch, so the range is extended once per batch, not per value.
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = start; i < end; i++) {
      if (mask && !mask[i]) continue;
      const x = values[i]!;
      if (!Number.isFinite(x)) continue;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    if (lo <= hi) this.cover(lo, hi);
    let taken = 0;
    const { bins } = this;
    const scale = bins / (this.hi - this.lo);
    for (let i = start; i < end; i++) {
      if (mask && !mask[i]) continue;
      const x = values[i]!;
      if (!Number.isFinite(x) || x < this.lo || x >= this.hi) {
        this.invalid++;
        continue;
      }
      const b = Math.floor((x - this.lo) * scale);
      this.counts[b < bins ? b : bins - 1]! += 1;
      taken++;
    }
    return taken;
  }

  /** The bin edges (NaN before the first value). */
  edges(out?: Float64Array): Float64Array {
    return this.hasRange ? binEdges(this, out) : (out ?? new Float64Array(this.bins + 1)).fill(NaN);
  }

  /** The bin centres (NaN before the first value). */
  centres(out?: Float64Array): Float64Array {
    return this.hasRange ? binCentres(this, out) : (out ?? new Float64Array(this.bins)).fill(NaN);
  }

  reset(): void {
    this.counts.fill(0);
    this.lo = NaN;
    this.hi = NaN;
    this.invalid = 0;
  }

  /** Extends (or first sets) the range so that [min, max] lies inside it. */
  private cover(min: number, max: number): void {
    if (!this.hasRange) this.initialRange(min, max);
    // 64 doublings span a factor 2^64: beyond that a value is an outlier and counted invalid by fill().
    for (let k = 0; k < 64 && max >= this.hi; k++) this.double(true);
    for (let k = 0; k < 64 && min < this.lo; k++) this.double(false);
  }

  private initialRange(min: number, max: number): void {
    const n = this.bins;
    if (this.integer) {
      const width = Math.max(1, Math.ceil((Math.round(max) - Math.round(min) + 1) / n));
      this.lo = Math.round(min) - 0.5;
      this.hi = this.lo + width * n;
      return;
    }
    // The span of the first batch, widened by one bin so that its maximum falls inside [lo, hi).
    const span = max > min ? max - min : Math.max(Math.abs(min) * 0.1, 1e-9);
    const width = span / (n - 1);
    this.lo = max > min ? min : min - span / 2;
    this.hi = this.lo + width * n;
  }

  /** Doubles the range upwards (`up`) or downwards, merging pairs of bins. */
  private double(up: boolean): void {
    const c = this.counts;
    const n = this.bins;
    const half = n / 2;
    const w = this.hi - this.lo;
    if (up) {
      for (let i = 0; i < half; i++) c[i] = c[2 * i]! + c[2 * i + 1]!;
      c.fill(0, half);
      this.hi = this.lo + 2 * w;
    } else {
      for (let i = n - 1; i >= half; i--) c[i] = c[2 * (i - half)]! + c[2 * (i - half) + 1]!;
      c.fill(0, 0, half);
      this.lo = this.hi - 2 * w;
    }
  }
}
