// The optional native (C) kernels of native/, built by scripts/build.mjs; without them the TypeScript loops run.
import { createRequire } from "node:module";

/** A UDP socket read by the addon (`udpRecvOpen`): bound port, the receive buffer the kernel reports, close(). */
export interface NativeUdpSocket {
  readonly port: number;
  /** SO_RCVBUF as the kernel reports it (bytes; Linux reports twice what it grants, as dgram does). */
  readonly recvBufferBytes: number;
  /** Stops polling and closes the socket; safe inside onBatch and when called twice. */
  close(): void;
}

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
  /**
   * Decodes TARGET-C datagrams of a receive batch into page columns from row `row` on: `plan` holds per datagram
   * its byte offset in `bytes`, byte length (whole 144-byte readouts) and module, and gets the rows appended as
   * its 4th value; readouts with a main or aux timestamp of 0 or outside `[minNs, maxNs]` are skipped. The values
   * are decodeReadouts' (mV = (word ^ 0x8000) * mvPerCount, rounded to float32). Returns the row after the last.
   */
  targetCDecode(
    bytes: Uint8Array,
    plan: Int32Array,
    entries: number,
    mv: Float32Array,
    tsWords: Uint32Array,
    auxWords: Uint32Array,
    module: Uint16Array,
    row: number,
    minNs: number,
    maxNs: number,
    mvPerCount: number,
  ): number;
  /**
   * For j < count: copies row `srcRows[j]` of `src` to row `dstRows[j]` of `dst`, rows of `rowUnits` elements;
   * `dst` and `src` both have 4-byte elements (Int32Array, Uint32Array, Float32Array) or both bytes.
   */
  copyRows(
    dst: Int32Array | Uint32Array | Float32Array | Uint8Array,
    dstRows: Int32Array,
    src: Int32Array | Uint32Array | Float32Array | Uint8Array,
    srcRows: Int32Array,
    count: number,
    rowUnits: number,
  ): void;
  /**
   * Binds an IPv4 UDP socket (`host` an address literal, SO_RCVBUF asked as `recvBufferBytes`), polled by the
   * event loop and drained with recvmmsg: datagram i of a batch lands at `bytes[i * 65536]`, its length, source
   * address (host-order uint32), source port and truncation flag at `meta[4i..4i+3]`, the time it was read (unix
   * ms) at `timeMs[i]`; then `onBatch(count)` is called once per batch (`timeMs.length` datagrams at most). What
   * onBatch throws goes to `onError`. Throws an Error with code HUTCH_ERR_IO when the socket cannot be bound.
   */
  udpRecvOpen(
    host: string,
    port: number,
    recvBufferBytes: number,
    bytes: Uint8Array,
    meta: Uint32Array,
    timeMs: Float64Array,
    onBatch: (count: number) => void,
    onError: (err: Error) => void,
  ): NativeUdpSocket;
}

/**
 * Loads one of the project's optional native addons (`url`: its `.node` file), or undefined when it is not built
 * or `HUTCH_NATIVE=0` turns every addon off (the TypeScript or WebAssembly paths then run).
 */
export function loadNativeAddon<T>(url: URL): T | undefined {
  if (process.env.HUTCH_NATIVE === "0") return undefined;
  try {
    return createRequire(import.meta.url)(url.pathname) as T;
  } catch {
    return undefined;
  }
}

/** The native kernels, or undefined when they are not built (or `HUTCH_NATIVE=0`). From src/ and dist/ alike. */
export const nativeAddon = loadNativeAddon<NativeAddon>(
  new URL("../../native/build/Release/hutch_native.node", import.meta.url),
);
