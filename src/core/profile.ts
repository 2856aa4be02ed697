// A profile (bin-by): y binned by x, with per-bin count, mean, spread and error of the mean (Welford per bin).
import { ErrorCode, HutchError } from "./errors.js";
import { binCentres, binEdges, binIndex, checkBinning, type Binning } from "./histogram.js";

/** Per-bin results of a profile, as arrays of length `bins`. */
export interface ProfileResult {
  readonly centres: Float64Array;
  readonly counts: Float64Array;
  /** Mean of y per bin (NaN for an empty bin). */
  readonly mean: Float64Array;
  /** Sample standard deviation of y per bin (NaN with fewer than 2 entries). */
  readonly std: Float64Array;
  /** Standard error of the mean: std / sqrt(count) (NaN with fewer than 2 entries). */
  readonly sem: Float64Array;
}

/**
 * y versus binned x, e.g. "ROI/I0 vs delay, 40 bins over -2..3 ps". Each bin keeps a Welford mean and M2, so the
 * error bars are correct however many entries arrive. Entries with NaN x or y, or x outside the range, are counted
 * and left out.
 * @example
 * const p = new Profile({ bins: 40, lo: -2, hi: 3 });
 * p.fill(delay, roiOverI0); p.result().mean;
 */
export class Profile implements Binning {
  readonly bins: number;
  readonly lo: number;
  readonly hi: number;
  readonly counts: Float64Array;
  readonly means: Float64Array;
  readonly m2: Float64Array;
  underflow = 0;
  overflow = 0;
  invalid = 0;

  constructor(b: Binning) {
    checkBinning(b, "profile");
    this.bins = b.bins;
    this.lo = b.lo;
    this.hi = b.hi;
    this.counts = new Float64Array(b.bins);
    this.means = new Float64Array(b.bins);
    this.m2 = new Float64Array(b.bins);
  }

  /**
   * Adds pairs (x[i], y[i]) for i in [start, end) whose `mask` entry (if given) is non-zero. Returns the number
   * of pairs binned.
   */
  fill(
    x: ArrayLike<number>,
    y: ArrayLike<number>,
    opts: { mask?: ArrayLike<number>; start?: number; end?: number } = {},
  ): number {
    if (x.length !== y.length) {
      throw new HutchError(ErrorCode.Validation, `profile: x has ${x.length} values but y has ${y.length}`);
    }
    const { mask, start = 0, end = x.length } = opts;
    let taken = 0;
    for (let i = start; i < end; i++) {
      if (mask && !mask[i]) continue;
      const yi = y[i]!;
      const b = binIndex(x[i]!, this.lo, this.hi, this.bins);
      if (b === -2 || !Number.isFinite(yi)) this.invalid++;
      else if (b < 0) this.underflow++;
      else if (b >= this.bins) this.overflow++;
      else {
        const n = ++this.counts[b]!;
        const d = yi - this.means[b]!;
        this.means[b] = this.means[b]! + d / n;
        this.m2[b] = this.m2[b]! + d * (yi - this.means[b]!);
        taken++;
      }
    }
    return taken;
  }

  /** The bin edges. */
  edges(out?: Float64Array): Float64Array {
    return binEdges(this, out);
  }

  /** Per-bin results (fresh arrays, safe to publish). */
  result(): ProfileResult {
    const n = this.bins;
    const mean = new Float64Array(n);
    const std = new Float64Array(n);
    const sem = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const c = this.counts[i]!;
      mean[i] = c > 0 ? this.means[i]! : NaN;
      std[i] = c > 1 ? Math.sqrt(this.m2[i]! / (c - 1)) : NaN;
      sem[i] = c > 1 ? std[i]! / Math.sqrt(c) : NaN;
    }
    return { centres: binCentres(this), counts: this.counts.slice(), mean, std, sem };
  }

  reset(): void {
    this.counts.fill(0);
    this.means.fill(0);
    this.m2.fill(0);
    this.underflow = 0;
    this.overflow = 0;
    this.invalid = 0;
  }
}
