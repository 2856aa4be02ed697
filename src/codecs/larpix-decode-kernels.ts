// The LArPix decode loops: one row at a time (any packet type) and four data packets per step (SWAR stores).
import type { LarpixPacketBatch } from "./larpix-packet-batch.js";

/**
 * Decodes one word (`lo` = bits 31..0, `hi` = bits 53..32, pad bits cleared) into row `i`, writing every column
 * the packet fields fill (fields a type does not use are written 0); io group, io channel, direction and pixel
 * are left to the caller.
 */
export function decodeRow(lo: number, hi: number, i: number, out: LarpixPacketBatch): void {
  const t = lo & 3;
  // Uint8Array stores keep the low 8 bits: `lo >>> 2` is the chip id, `lo >>> 10` the register.
  out.type[i] = t;
  out.chipId[i] = lo >>> 2;
  out.parity[i] = hi >>> 21;
  // Parity of the 54 bits: fold to 4 bits, then look the nibble's parity up in the constant 0x6996.
  let x = lo ^ hi;
  x ^= x >>> 16;
  x ^= x >>> 8;
  x ^= x >>> 4;
  out.validParity[i] = (0x6996 >>> (x & 15)) & 1;
  const data = t === 0;
  const config = t >= 2;
  out.channel[i] = data ? (lo >>> 10) & 0x7f : 0;
  out.timestamp32[2 * i] = data ? (lo >>> 17) | ((hi & 0x1ff) << 15) : 0;
  out.timestamp32[2 * i + 1] = 0;
  out.adc[i] = data ? (hi >>> 9) & 0x3ff : 0;
  out.fifoHalf[i] = data ? (hi >>> 19) & 1 : 0;
  out.fifoFull[i] = data ? (hi >>> 20) & 1 : 0;
  out.counter[i] = t === 1 ? (((lo >>> 10) & 0xf) << 12) | ((hi >>> 9) & 0xfff) : 0;
  out.register[i] = config ? lo >>> 10 : 0;
  out.value[i] = config ? lo >>> 18 : 0;
  if (!data && i >= out.zeroFrom) out.zeroFrom = i + 1;
}

/**
 * Words `first..n-1` of `w` (int32 pairs, low half first) into rows `start + first ..`, where row `start + first`
 * is a multiple of 4. Four packets per step: when all four are data packets (the common case), each uint8 column
 * gets one 32-bit store for the four rows (bytes built with shifts, SWAR) and the ADC column two. Stops before
 * fewer than 4 words are left or at four words that are not all data packets (the caller decodes them with
 * `decodeRow`, then calls again). `register`, `value`, `counter` and the timestamp column must already be 0 for
 * these rows (see `zeroFrom`): data packets leave them alone but for the timestamps' low halves. Returns the index
 * of the first word not decoded.
 */
export function decodeDataSteps(
  w: Int32Array,
  first: number,
  n: number,
  start: number,
  out: LarpixPacketBatch,
): number {
  const u = out.words;
  const m = out.columnWords; // 32-bit words per uint8 column
  const row0 = (start + first) | 0;
  // Word offsets: the uint8 columns follow each other (chip id, type, channel, FIFO half, FIFO full, parity,
  // valid parity), `m` words apart; `| 0` keeps every index an int32 for the compiler.
  const typeAt = (out.typeWord + (row0 >>> 2)) | 0;
  const adcAt = (out.adcWord + (row0 >>> 1)) | 0;
  const tsAt = (2 * row0) | 0;
  let k = first | 0;
  let q = 0;
  for (; ((k + 4) | 0) <= n; k = (k + 4) | 0, q = (q + 1) | 0) {
    const r = k << 1;
    const l0 = w[r]! | 0;
    const l1 = w[(r + 2) | 0]! | 0;
    const l2 = w[(r + 4) | 0]! | 0;
    const l3 = w[(r + 6) | 0]! | 0;
    if (((l0 | l1 | l2 | l3) & 3) !== 0) break; // not four data packets: the caller goes row by row
    const h0 = w[(r + 1) | 0]! & 0x3fffff;
    const h1 = w[(r + 3) | 0]! & 0x3fffff;
    const h2 = w[(r + 5) | 0]! & 0x3fffff;
    const h3 = w[(r + 7) | 0]! & 0x3fffff;
    // Type is 0 for all four: the type column gets zeros, chip id is bits 9..2, channel bits 16..10.
    let o = (typeAt + q) | 0;
    u[o] = 0;
    u[(o - m) | 0] =
      ((l0 >>> 2) & 0xff) | (((l1 >>> 2) & 0xff) << 8) | (((l2 >>> 2) & 0xff) << 16) | ((l3 >>> 2) << 24);
    o = (o + m) | 0;
    u[o] =
      ((l0 >>> 10) & 0x7f) |
      (((l1 >>> 10) & 0x7f) << 8) |
      (((l2 >>> 10) & 0x7f) << 16) |
      (((l3 >>> 10) & 0x7f) << 24);
    // FIFO half, FIFO full and parity are bits 19, 20, 21 of `hi`: one byte of 3 bits per row, then split.
    // (`h` has 22 bits: `h >>> 19` is the three flags alone.)
    const f = (h0 >>> 19) | ((h1 >>> 19) << 8) | ((h2 >>> 19) << 16) | ((h3 >>> 19) << 24);
    o = (o + m) | 0;
    u[o] = f & 0x01010101;
    o = (o + m) | 0;
    u[o] = (f >>> 1) & 0x01010101;
    o = (o + m) | 0;
    u[o] = (f >>> 2) & 0x01010101;
    // Parity: fold each packet to 8 bits, pack the four bytes, then fold every byte to its bit 0 at once.
    let x0 = l0 ^ h0;
    x0 ^= x0 >>> 16;
    let x1 = l1 ^ h1;
    x1 ^= x1 >>> 16;
    let x2 = l2 ^ h2;
    x2 ^= x2 >>> 16;
    let x3 = l3 ^ h3;
    x3 ^= x3 >>> 16;
    let p =
      ((x0 ^ (x0 >>> 8)) & 0xff) |
      (((x1 ^ (x1 >>> 8)) & 0xff) << 8) |
      (((x2 ^ (x2 >>> 8)) & 0xff) << 16) |
      ((x3 ^ (x3 >>> 8)) << 24);
    p ^= p >>> 4;
    p ^= p >>> 2;
    p ^= p >>> 1;
    o = (o + m) | 0;
    u[o] = p & 0x01010101;
    // Timestamps (24 bits: 15 from `lo`, 9 from `hi`) as uint64 low halves (the caller zeroed the high halves).
    const t = (tsAt + (q << 3)) | 0;
    u[t] = (l0 >>> 17) | ((h0 & 0x1ff) << 15);
    u[(t + 2) | 0] = (l1 >>> 17) | ((h1 & 0x1ff) << 15);
    u[(t + 4) | 0] = (l2 >>> 17) | ((h2 & 0x1ff) << 15);
    u[(t + 6) | 0] = (l3 >>> 17) | ((h3 & 0x1ff) << 15);
    const a = (adcAt + (q << 1)) | 0;
    u[a] = ((h0 >>> 9) & 0x3ff) | (((h1 >>> 9) & 0x3ff) << 16);
    u[(a + 1) | 0] = ((h2 >>> 9) & 0x3ff) | (((h3 >>> 9) & 0x3ff) << 16);
  }
  return k;
}
