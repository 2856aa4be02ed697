// TARGET-C readouts decoded from a 32-bit view of a receive batch (the native path): no view per datagram.
import {
  ANY_NONZERO_TIMESTAMP,
  HOST_LITTLE_ENDIAN,
  TARGET_C_MV_PER_COUNT,
  TARGET_C_READOUT_BYTES,
  type ReadoutColumns,
  type TimestampBounds,
} from "../../codecs/index.js";
import { ErrorCode, HutchError } from "../../core/index.js";

/**
 * Appends the readouts of the datagram of `byteLength` bytes at byte `byteOffset` (a multiple of 4) of the
 * little-endian host-order view `words` to `out`, exactly as `decodeReadouts` does with that datagram's bytes:
 * readouts whose main or aux timestamp lies outside `bounds` (or is 0) are skipped. Returns the rows appended.
 * Throws HUTCH_ERR_WIRE when the length is not a positive multiple of 144, HUTCH_ERR_OVERFLOW when `out` lacks
 * room, and HUTCH_ERR_VALIDATION on a big-endian host or an unaligned offset.
 * @example const n = decodeReadoutWords(batch.words, i * 65536, batch.length(i), module, page, bounds);
 */
export function decodeReadoutWords(
  words: Uint32Array,
  byteOffset: number,
  byteLength: number,
  module: number,
  out: ReadoutColumns,
  bounds: TimestampBounds = ANY_NONZERO_TIMESTAMP,
): number {
  const len = byteLength;
  if (len === 0 || len % TARGET_C_READOUT_BYTES !== 0) {
    throw new HutchError(ErrorCode.Wire, `TARGET-C datagram: length ${len} bytes is not a multiple of 144`);
  }
  if (!HOST_LITTLE_ENDIAN || byteOffset % 4 !== 0 || byteOffset + len > words.byteLength) {
    throw new HutchError(ErrorCode.Validation, `cannot read ${len} bytes at ${byteOffset} as 32-bit words`);
  }
  const count = len / TARGET_C_READOUT_BYTES;
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
  let row = start;
  // word offsets in a readout (36 words): 0-1 timestamp, 2-17 adc[0..31], 18-19 aux timestamp, 20-35 adc[32..63]
  const end = (byteOffset + len) >>> 2;
  for (let q0 = byteOffset >>> 2; q0 < end; q0 += 36) {
    const tsHi = swap(words[q0]!);
    const tsLo = swap(words[q0 + 1]!);
    const auxHi = swap(words[q0 + 18]!);
    const auxLo = swap(words[q0 + 19]!);
    const ts = tsHi * 4294967296 + tsLo;
    const aux = auxHi * 4294967296 + auxLo;
    if (ts === 0 || aux === 0 || ts < minNs || ts > maxNs || aux < minNs || aux > maxNs) continue;
    tsW[2 * row] = tsLo;
    tsW[2 * row + 1] = tsHi;
    auxW[2 * row] = auxLo;
    auxW[2 * row + 1] = auxHi;
    modules[row] = module;
    // a host-order word holds two big-endian pixels: swap the bytes in the arithmetic; offset binary to mV in
    // float64, rounded once on the float32 store (the value of adcToMv)
    const o = row * 64;
    for (let i = 0, q = q0 + 2; i < 32; i += 2, q++) {
      const a = words[q]!;
      mv[o + i] = ((((a & 0xff) << 8) | ((a >>> 8) & 0xff)) ^ 0x8000) * k;
      mv[o + i + 1] = ((((a >>> 8) & 0xff00) | (a >>> 24)) ^ 0x8000) * k;
    }
    for (let i = 32, q = q0 + 20; i < 64; i += 2, q++) {
      const a = words[q]!;
      mv[o + i] = ((((a & 0xff) << 8) | ((a >>> 8) & 0xff)) ^ 0x8000) * k;
      mv[o + i + 1] = ((((a >>> 8) & 0xff00) | (a >>> 24)) ^ 0x8000) * k;
    }
    row++;
  }
  out.n = row;
  return row - start;
}

/** The big-endian uint32 read as the host-order (little-endian) word `a`. */
function swap(a: number): number {
  return ((a << 24) | ((a & 0xff00) << 8) | ((a >>> 8) & 0xff00) | (a >>> 24)) >>> 0;
}
