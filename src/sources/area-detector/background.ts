// Background of a run: mean or median of its background frames, and frames minus background as float32.
import { ErrorCode, HutchError, nativeAddon } from "../../core/index.js";

/** How the background frames are combined. */
export const BACKGROUND_METHODS = ["mean", "median"] as const;
/** A background method. */
export type BackgroundMethod = (typeof BACKGROUND_METHODS)[number];

/** The native kernels (native/area_detector.c) when built: 4-5x faster than these loops, the same values. */
let native = nativeAddon;

/** Chooses the native kernels (when built) or the TypeScript loops; returns the previous choice. For tests. */
export function useNativeFrameKernels(on: boolean): boolean {
  const was = native !== undefined;
  native = on ? nativeAddon : undefined;
  return was;
}

/** Rows of the median computed between two yields to the event loop (keeps sockets served). */
const MEDIAN_ROWS_PER_SLICE = 64;

/** Sum arrays of finished means, for the next accumulator of the same size. */
const spareSums: Uint32Array[] = [];
const SPARE_SUMS_MAX = 2;

/** A sum array of `n` elements: a spare one (contents stale: the first pass assigns) or a new one. */
function takeSum(n: number): Uint32Array {
  const i = spareSums.findIndex((a) => a.length === n);
  return i >= 0 ? spareSums.splice(i, 1)[0]! : new Uint32Array(n);
}

/**
 * Collects background frames. The mean is accumulated as frames arrive into uint32 sums (exact, and half the memory
 * traffic of float64), two frames per pass: the pass is bound by memory bandwidth at 2880 x 2880, and reading and
 * writing the sums once per two frames saves a third of it. The first pass assigns instead of adding, so a sum array
 * left by the previous run is reused as it is (a fresh 33 MB array costs a page fault per 4 KiB on first touch). The
 * median keeps the frames and is computed at the end, per pixel, in slices that yield to the event loop.
 * @example const acc = new BackgroundAccumulator("mean", w, h); acc.add(frame); const bg = await acc.result();
 */
export class BackgroundAccumulator {
  private sum: Uint32Array | Float64Array | undefined;
  private readonly frames: Uint16Array[] = [];
  /** A frame of the mean waiting for its partner (added in the same pass). */
  private waiting: Uint16Array | undefined;
  /** True once `sum` holds frames (before, its contents are stale). */
  private started = false;
  private done: Float32Array | undefined;
  private n = 0;

  constructor(
    readonly method: BackgroundMethod,
    readonly width: number,
    readonly height: number,
  ) {
    if (method === "mean") this.sum = takeSum(width * height);
  }

  /** Frames added so far. */
  get count(): number {
    return this.n;
  }

  /** Adds one frame (kept by reference for the median: do not modify it afterwards). */
  add(frame: Uint16Array): void {
    if (frame.length !== this.width * this.height) {
      throw new HutchError(
        ErrorCode.Validation,
        `background frame has ${frame.length} pixels, expected ${this.width} x ${this.height}`,
      );
    }
    if (this.done)
      throw new HutchError(ErrorCode.Internal, "background frame added after the background was made");
    this.n++;
    // uint32 sums of uint16 values are exact up to 65537 frames; beyond, float64 takes over.
    if (this.sum instanceof Uint32Array && this.n > 65_537) {
      this.settle();
      this.sum = Float64Array.from(this.sum);
    }
    if (!this.sum) this.frames.push(frame);
    else if (!this.waiting) this.waiting = frame;
    else {
      if (this.started) addTwoInto(this.sum, this.waiting, frame);
      else setTwoInto(this.sum as Uint32Array, this.waiting, frame);
      this.started = true;
      this.waiting = undefined;
    }
  }

  /** The background (float32), or undefined without frames. */
  async result(): Promise<Float32Array | undefined> {
    if (this.n === 0) return undefined;
    if (this.done) return this.done;
    const out = new Float32Array(this.width * this.height);
    if (this.sum) {
      this.settle();
      scaleInto(this.sum, 1 / this.n, out);
      if (this.sum instanceof Uint32Array && spareSums.length < SPARE_SUMS_MAX) spareSums.push(this.sum);
      this.sum = undefined;
      this.done = out;
      return out;
    }
    const w = this.width;
    for (let y = 0; y < this.height; y += MEDIAN_ROWS_PER_SLICE) {
      medianRows(this.frames, out, y * w, Math.min(this.height, y + MEDIAN_ROWS_PER_SLICE) * w);
      await new Promise<void>((r) => setImmediate(r));
    }
    return out;
  }

  /** Adds the frame still waiting for a partner. */
  private settle(): void {
    if (this.sum && this.waiting) {
      if (this.started) addInto(this.sum, this.waiting);
      else this.sum.set(this.waiting);
      this.started = true;
    }
    this.waiting = undefined;
  }
}

/** sum[i] = a[i] + b[i] (the first pass: the sum array's old contents are not read). */
function setTwoInto(sum: Uint32Array, a: Uint16Array, b: Uint16Array): void {
  if (native) return void native.adSum(sum, a, b, true);
  for (let i = 0; i < sum.length; i++) sum[i] = a[i]! + b[i]!;
}

/** sum[i] += a[i] + b[i] (monomorphic per sum type: a separate loop each). */
function addTwoInto(sum: Uint32Array | Float64Array, a: Uint16Array, b: Uint16Array): void {
  if (native && sum instanceof Uint32Array) return void native.adSum(sum, a, b, false);
  if (sum instanceof Uint32Array) {
    for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + a[i]! + b[i]!;
  } else {
    for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + a[i]! + b[i]!;
  }
}

/** sum[i] += frame[i] (monomorphic per sum type: a separate loop each). */
function addInto(sum: Uint32Array | Float64Array, frame: Uint16Array): void {
  if (native && sum instanceof Uint32Array) return void native.adSum(sum, frame, null, false);
  if (sum instanceof Uint32Array) {
    for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + frame[i]!;
  } else {
    for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + frame[i]!;
  }
}

/** out[i] = sum[i] * k. */
function scaleInto(sum: Uint32Array | Float64Array, k: number, out: Float32Array): void {
  if (native && sum instanceof Uint32Array) return void native.adScale(out, sum, k);
  if (sum instanceof Uint32Array) {
    for (let i = 0; i < out.length; i++) out[i] = sum[i]! * k;
  } else {
    for (let i = 0; i < out.length; i++) out[i] = sum[i]! * k;
  }
}

/** Per-pixel median of `frames` over pixels [from, to): insertion sort of N values (N is small, ~10). */
export function medianRows(
  frames: readonly Uint16Array[],
  out: Float32Array,
  from: number,
  to: number,
): void {
  const n = frames.length;
  if (native && n <= 256) return void native.adMedianRows(frames, out, from, to);
  const v = new Uint16Array(n);
  const mid = n >> 1;
  for (let i = from; i < to; i++) {
    for (let k = 0; k < n; k++) {
      const x = frames[k]![i]!;
      let j = k - 1;
      while (j >= 0 && v[j]! > x) {
        v[j + 1] = v[j]!;
        j--;
      }
      v[j + 1] = x;
    }
    out[i] = n & 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  }
}

/**
 * `frame - background` as float32 (negative values kept). Writes into `out` when given (reuse across frames).
 * @example const sub = subtractBackground(frame, bg);
 */
export function subtractBackground(
  frame: Uint16Array,
  background: Float32Array,
  out: Float32Array = new Float32Array(frame.length),
): Float32Array {
  if (frame.length !== background.length || out.length !== frame.length) {
    throw new HutchError(
      ErrorCode.Validation,
      `cannot subtract a background of ${background.length} pixels from a frame of ${frame.length}`,
    );
  }
  if (native) return native.adSubtract(out, frame, background);
  for (let i = 0; i < frame.length; i++) out[i] = frame[i]! - background[i]!;
  return out;
}
