// The optional native (C) kernels of native/, built by scripts/build.mjs; without them the TypeScript loops run.
import { createRequire } from "node:module";

/** What native/build/Release/hutch_native.node exports (each throws a RangeError on arguments of the wrong kind). */
export interface NativeAddon {
  /**
   * Decodes `n` LArPix words (`words`: int32 pairs, low half first) into rows `start..` of a packet batch whose
   * memory `batch` covers, at the byte `offsets` of its columns (timestamp, counter, adc, chip id, type,
   * channel, FIFO half, FIFO full, parity, valid parity, register, value), writing every field of every row.
   * Returns one past the last row that is not a data packet (0 when all are).
   */
  larpixDecode(words: Int32Array, n: number, start: number, batch: Uint32Array, offsets: Int32Array): number;
  /** `sum (+)= a (+ b)` element-wise: `assign` sets instead of adding. */
  adSum(sum: Uint32Array, a: Uint16Array, b: Uint16Array | null, assign: boolean): Uint32Array;
  /** `out = sum * k` (in double, rounded to float32). */
  adScale(out: Float32Array, sum: Uint32Array, k: number): Float32Array;
  /** `out = frame - background` (in double, rounded to float32). */
  adSubtract(out: Float32Array, frame: Uint16Array, background: Float32Array): Float32Array;
  /** Per-pixel median of 1..256 frames over pixels `[from, to)` into `out`. */
  adMedianRows(frames: readonly Uint16Array[], out: Float32Array, from: number, to: number): Float32Array;
}

/** Where the addon is, from src/core/ (tsx, vitest) and from dist/core/ alike. */
const ADDON = "../../native/build/Release/hutch_native.node";

function load(): NativeAddon | undefined {
  if (process.env.HUTCH_NATIVE === "0") return undefined;
  try {
    return createRequire(import.meta.url)(ADDON) as NativeAddon;
  } catch {
    return undefined;
  }
}

/** The native kernels, or undefined when they are not built (or `HUTCH_NATIVE=0`). */
export const nativeAddon: NativeAddon | undefined = load();
