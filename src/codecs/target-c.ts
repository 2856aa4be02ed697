// TARGET-C slow-signal readouts (CHEC-S): 144-byte big-endian records decoded into columnar batches, and encoded for the simulator.
import { ErrorCode, HutchError } from "../core/index.js";

/** Bytes of one readout: u64 timestamp_ns, u16[32] adc, u64 aux_timestamp_ns, u16[32] adc (big-endian). */
export const TARGET_C_READOUT_BYTES = 144;
/** Pixels of one TARGET-C module (two halves of 32, one per timestamp). */
export const TARGET_C_PIXELS = 64;
/** Millivolts per ADC count, applied after the offset-binary flip. */
export const TARGET_C_MV_PER_COUNT = 0.0763;
/** Largest datagram an IPv4 UDP socket can carry (65507 bytes): at most 454 readouts. */
export const TARGET_C_MAX_READOUTS = Math.floor(65507 / TARGET_C_READOUT_BYTES);

const HALF = TARGET_C_PIXELS / 2;
/** Offsets inside one readout. */
const OFF_TS = 0;
const OFF_ADC0 = 8;
const OFF_AUX = 8 + 2 * HALF;
const OFF_ADC1 = OFF_AUX + 8;

/**
 * ADC word to mV: flip the top bit (offset binary), then x 0.0763 mV/count.
 * @example adcToMv(0x8000) // 0; adcToMv(0x8001) // 0.0763
 */
export function adcToMv(word: number): number {
  return (word ^ 0x8000) * TARGET_C_MV_PER_COUNT;
}

/**
 * mV to the ADC word that decodes closest to it (clamped to the 16-bit range); the simulator's inverse of `adcToMv`.
 * @example mvToAdc(0.0763) // 0x8001
 */
export function mvToAdc(mv: number): number {
  const counts = Math.min(0xffff, Math.max(0, Math.round(mv / TARGET_C_MV_PER_COUNT)));
  return counts ^ 0x8000;
}

/** Why a datagram of `byteLength` bytes cannot hold readouts, or undefined when it can. */
export function datagramLengthProblem(byteLength: number): string | undefined {
  if (byteLength === 0) return "empty datagram";
  if (byteLength % TARGET_C_READOUT_BYTES !== 0) {
    return `length ${byteLength} bytes is not a multiple of ${TARGET_C_READOUT_BYTES} (one readout)`;
  }
  return undefined;
}

/** True on little-endian hosts (x86, ARM): decides how uint64 bytes are laid out in typed arrays. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
/** Indices of the low and high 32-bit words of a uint64 in a Uint32Array view. */
const W_LO = HOST_LITTLE_ENDIAN ? 0 : 1;
const W_HI = 1 - W_LO;

/**
 * Where decoded readouts go: row i has `module[i]`, timestamp words `tsWords[2i..2i+1]` and
 * `auxWords[2i..2i+1]` (host-order uint64 halves) and 64 mV values at `mv[i*64 .. i*64+63]`; `n` rows are
 * filled, `capacity` fit.
 */
export interface ReadoutColumns {
  n: number;
  readonly capacity: number;
  readonly module: Uint16Array;
  readonly tsWords: Uint32Array;
  readonly auxWords: Uint32Array;
  readonly mv: Float32Array;
}

/**
 * A reusable columnar batch of decoded readouts: row i has `module[i]`, `timestampNs[i]`, `auxTimestampNs[i]`
 * and 64 mV values at `mv[i*64 .. i*64+63]`. Allocated once; `clear()` makes it empty again.
 */
export class ReadoutBatch implements ReadoutColumns {
  /** Rows filled. */
  n = 0;
  readonly module: Uint16Array;
  readonly timestampNs: BigUint64Array;
  readonly auxTimestampNs: BigUint64Array;
  readonly mv: Float32Array;
  /** 32-bit word views of the timestamp columns: the decoder writes them without making bigints. */
  readonly tsWords: Uint32Array;
  readonly auxWords: Uint32Array;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new HutchError(
        ErrorCode.Validation,
        `readout batch capacity must be an integer >= 1, got ${capacity}`,
      );
    }
    this.module = new Uint16Array(capacity);
    this.timestampNs = new BigUint64Array(capacity);
    this.auxTimestampNs = new BigUint64Array(capacity);
    this.mv = new Float32Array(capacity * TARGET_C_PIXELS);
    this.tsWords = new Uint32Array(this.timestampNs.buffer);
    this.auxWords = new Uint32Array(this.auxTimestampNs.buffer);
  }

  /** Rows still free. */
  get free(): number {
    return this.capacity - this.n;
  }

  clear(): void {
    this.n = 0;
  }
}

/**
 * Accepted timestamp range (inclusive, ns, as float64: compared to 256 ns at today's unix times); readouts whose
 * main or aux timestamp falls outside are skipped as impossible. A timestamp of 0 is always impossible.
 */
export interface TimestampBounds {
  readonly minNs: number;
  readonly maxNs: number;
}

/** Bounds that accept every timestamp except 0. */
export const ANY_NONZERO_TIMESTAMP: TimestampBounds = { minNs: 1, maxNs: Infinity };

/** The big-endian uint32 at byte `at` of `bytes`; through `words` (its host-order 32-bit view) when given. */
function be32(bytes: Uint8Array, words: Uint32Array | undefined, at: number): number {
  if (words) {
    const a = words[at >>> 2]!;
    return ((a << 24) | ((a & 0xff00) << 8) | ((a >>> 8) & 0xff00) | (a >>> 24)) >>> 0;
  }
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/**
 * Appends the readouts of one datagram from `module` to `out` (a ReadoutBatch or any ReadoutColumns), skipping
 * readouts whose main or aux timestamp lies outside `bounds` (or is 0). Returns the rows appended;
 * `byteLength / 144 - returned` readouts were skipped. Makes no objects per readout (one 32-bit view
 * per datagram when it is 4-byte aligned on a little-endian host). Throws HUTCH_ERR_WIRE when the length is not a multiple of 144 (check
 * `datagramLengthProblem` first) and HUTCH_ERR_OVERFLOW when `out` lacks room.
 * @example const n = decodeReadouts(msg, 5, batch, ANY_NONZERO_TIMESTAMP);
 */
export function decodeReadouts(
  bytes: Uint8Array,
  module: number,
  out: ReadoutColumns,
  bounds: TimestampBounds = ANY_NONZERO_TIMESTAMP,
): number {
  const len = bytes.byteLength;
  if (len === 0 || len % 144 !== 0) {
    throw new HutchError(ErrorCode.Wire, `TARGET-C datagram: ${datagramLengthProblem(len)}`);
  }
  const count = len / 144;
  const start = out.n;
  if (count > out.capacity - start) {
    throw new HutchError(
      ErrorCode.Overflow,
      `TARGET-C datagram of ${count} readouts does not fit a batch with ${out.capacity - start} free rows`,
    );
  }
  const minNs = bounds.minNs;
  const maxNs = bounds.maxNs;
  const tsW = out.tsWords;
  const auxW = out.auxWords;
  const mv = out.mv;
  const modules = out.module;
  const k = TARGET_C_MV_PER_COUNT;
  const lo = W_LO;
  const hi = W_HI;
  // one 32-bit view per datagram when aligned on a little-endian host: two pixels per load (much faster)
  const words =
    HOST_LITTLE_ENDIAN && bytes.byteOffset % 4 === 0
      ? new Uint32Array(bytes.buffer, bytes.byteOffset, len >>> 2)
      : undefined;
  let row = start;
  // literal offsets: 0 timestamp, 8 adc[0..31], 72 aux timestamp, 80 adc[32..63] (see TARGET_C_READOUT_BYTES)
  for (let base = 0; base < len; base += 144) {
    const tsHi = be32(bytes, words, base);
    const tsLo = be32(bytes, words, base + 4);
    const auxHi = be32(bytes, words, base + 72);
    const auxLo = be32(bytes, words, base + 76);
    const ts = tsHi * 4294967296 + tsLo;
    const aux = auxHi * 4294967296 + auxLo;
    if (ts === 0 || aux === 0 || ts < minNs || ts > maxNs || aux < minNs || aux > maxNs) continue;
    tsW[2 * row + lo] = tsLo;
    tsW[2 * row + hi] = tsHi;
    auxW[2 * row + lo] = auxLo;
    auxW[2 * row + hi] = auxHi;
    modules[row] = module;
    // pixels 0..31 follow the main timestamp, 32..63 the aux one: both halves are 32 big-endian words
    // offset binary to mV in float64 arithmetic, rounded once on the float32 store (the value of adcToMv)
    const o = row * 64;
    if (words) {
      // a host-order (little-endian) 32-bit word holds two big-endian pixels: swap the bytes in the arithmetic
      for (let i = 0, q = (base + 8) >>> 2; i < 32; i += 2, q++) {
        const a = words[q]!;
        mv[o + i] = ((((a & 0xff) << 8) | ((a >>> 8) & 0xff)) ^ 0x8000) * k;
        mv[o + i + 1] = ((((a >>> 8) & 0xff00) | (a >>> 24)) ^ 0x8000) * k;
      }
      for (let i = 32, q = (base + 80) >>> 2; i < 64; i += 2, q++) {
        const a = words[q]!;
        mv[o + i] = ((((a & 0xff) << 8) | ((a >>> 8) & 0xff)) ^ 0x8000) * k;
        mv[o + i + 1] = ((((a >>> 8) & 0xff00) | (a >>> 24)) ^ 0x8000) * k;
      }
    } else {
      for (let i = 0, p = base + 8; i < 32; i++, p += 2)
        mv[o + i] = (((bytes[p]! << 8) | bytes[p + 1]!) ^ 0x8000) * k;
      for (let i = 32, p = base + 80; i < 64; i++, p += 2)
        mv[o + i] = (((bytes[p]! << 8) | bytes[p + 1]!) ^ 0x8000) * k;
    }
    row++;
  }
  out.n = row;
  return row - start;
}

/**
 * Writes one readout at `offset` of `target`: timestamps in ns and 64 raw ADC words (pixels 0-31 follow the
 * main timestamp, 32-63 the aux one). Used by the simulator and tests.
 * @example encodeReadout(buf, 0, 1_700_000_000_000_000_000n, 1_700_000_000_000_000_000n, words);
 */
export function encodeReadout(
  target: Buffer,
  offset: number,
  timestampNs: bigint,
  auxTimestampNs: bigint,
  adcWords: ArrayLike<number>,
): void {
  if (adcWords.length !== TARGET_C_PIXELS) {
    throw new HutchError(
      ErrorCode.Validation,
      `a readout has ${TARGET_C_PIXELS} ADC words, got ${adcWords.length}`,
    );
  }
  if (offset < 0 || offset + TARGET_C_READOUT_BYTES > target.byteLength) {
    throw new HutchError(
      ErrorCode.Overflow,
      `readout at byte ${offset} does not fit ${target.byteLength} bytes`,
    );
  }
  target.writeBigUInt64BE(timestampNs, offset + OFF_TS);
  target.writeBigUInt64BE(auxTimestampNs, offset + OFF_AUX);
  let p = offset + OFF_ADC0;
  for (let i = 0; i < HALF; i++, p += 2) {
    const w = adcWords[i]!;
    target[p] = (w >>> 8) & 0xff;
    target[p + 1] = w & 0xff;
  }
  p = offset + OFF_ADC1;
  for (let i = HALF; i < TARGET_C_PIXELS; i++, p += 2) {
    const w = adcWords[i]!;
    target[p] = (w >>> 8) & 0xff;
    target[p + 1] = w & 0xff;
  }
}
