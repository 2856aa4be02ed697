// Columnar batches of LArPix packets: whole buffers of 7-byte words decoded into typed arrays, no object per packet.
import { ErrorCode, HutchError } from "../core/index.js";
import { LARPIX_TYPE, wordOf, writeWord } from "./larpix-packet.js";

/** True on little-endian hosts: the decoder writes uint64 timestamps as two uint32 halves. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Direction codes of the LArPix+HDF5 `direction` field. */
export const LARPIX_DIRECTION = { toChips: 0, fromChips: 1 } as const;

/** The columns of a batch by document field name (all numeric, one entry per packet). */
export const LARPIX_COLUMNS = [
  ["io_group", "uint8"],
  ["io_channel", "uint8"],
  ["chip_id", "uint8"],
  ["type", "uint8"],
  ["channel", "uint8"],
  ["timestamp", "uint64"],
  ["adc", "uint16"],
  ["fifo_half", "uint8"],
  ["fifo_full", "uint8"],
  ["parity", "uint8"],
  ["valid_parity", "uint8"],
  ["register", "uint8"],
  ["value", "uint8"],
  ["counter", "uint32"],
  ["direction", "uint8"],
] as const;

/**
 * A columnar batch of packets: row i is packet i. Unused fields of a row are 0 (a data packet has no register, a
 * config packet no timestamp), as in larpix-control's export. `timestamp` holds the 24-bit chip timestamp for data
 * packets and the unix time for timestamp rows (type 4); `pixel` is filled by a source from its pixel layout.
 * Every column lives in one ArrayBuffer, so a source can publish views of the first `n` rows as a page and start
 * a fresh batch (no copy), or reuse one with `clear()`.
 * @example
 * const b = new LarpixPacketBatch(4096);
 * decodeWords(payload, 8, (payload.length - 8) / 8, 8, { ioGroup: 1, ioChannel: 1 }, b);
 */
export class LarpixPacketBatch {
  /** Rows filled. */
  n = 0;
  readonly ioGroup: Uint8Array;
  readonly ioChannel: Uint8Array;
  readonly chipId: Uint8Array;
  readonly type: Uint8Array;
  readonly channel: Uint8Array;
  readonly timestamp: BigUint64Array;
  /** The timestamp column as uint32 halves (low half first): written without making bigints. */
  readonly timestamp32: Uint32Array;
  readonly adc: Uint16Array;
  readonly fifoHalf: Uint8Array;
  readonly fifoFull: Uint8Array;
  readonly parity: Uint8Array;
  readonly validParity: Uint8Array;
  readonly register: Uint8Array;
  readonly value: Uint8Array;
  readonly counter: Uint32Array;
  readonly direction: Uint8Array;
  /** Pixel of each data packet (-1 none), set by the source. */
  readonly pixel: Int32Array;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new HutchError(ErrorCode.Validation, `packet batch capacity must be >= 1, got ${capacity}`);
    }
    if (!LITTLE_ENDIAN)
      throw new HutchError(ErrorCode.Internal, "LArPix decoding needs a little-endian host");
    const n = capacity;
    // 8-byte column first, then 4, 2 and 1 byte columns: every view is aligned.
    const buf = new ArrayBuffer(30 * n);
    this.timestamp = new BigUint64Array(buf, 0, n);
    this.timestamp32 = new Uint32Array(buf, 0, 2 * n);
    this.counter = new Uint32Array(buf, 8 * n, n);
    this.pixel = new Int32Array(buf, 12 * n, n);
    this.adc = new Uint16Array(buf, 16 * n, n);
    const u8 = new Uint8Array(buf, 18 * n, 12 * n);
    const col = (i: number) => u8.subarray(i * n, (i + 1) * n);
    this.ioGroup = col(0);
    this.ioChannel = col(1);
    this.chipId = col(2);
    this.type = col(3);
    this.channel = col(4);
    this.fifoHalf = col(5);
    this.fifoFull = col(6);
    this.parity = col(7);
    this.validParity = col(8);
    this.register = col(9);
    this.value = col(10);
    this.direction = col(11);
  }

  /** Rows still free. */
  get free(): number {
    return this.capacity - this.n;
  }

  /** Empties the batch (zeroes the rows used, so unused fields of the next packets are 0). */
  clear(): void {
    const n = this.n;
    if (n === 0) return;
    for (const c of [
      this.ioGroup,
      this.ioChannel,
      this.chipId,
      this.type,
      this.channel,
      this.fifoHalf,
      this.fifoFull,
      this.parity,
      this.validParity,
      this.register,
      this.value,
      this.direction,
    ])
      c.fill(0, 0, n);
    this.timestamp32.fill(0, 0, 2 * n);
    this.adc.fill(0, 0, n);
    this.pixel.fill(0, 0, n);
    this.counter.fill(0, 0, n);
    this.n = 0;
  }

  /** Appends a timestamp row (type 4): `unixTime` in the `timestamp` field (up to 2^53). */
  pushTimestamp(unixTime: number, ioGroup: number): boolean {
    if (this.n >= this.capacity) return false;
    const i = this.n++;
    this.type[i] = LARPIX_TYPE.timestamp;
    this.ioGroup[i] = ioGroup;
    this.timestamp32[2 * i] = unixTime % 0x1_0000_0000;
    this.timestamp32[2 * i + 1] = Math.floor(unixTime / 0x1_0000_0000);
    this.direction[i] = 1;
    return true;
  }

  /** The 7 UART bytes of row `i` (types 0..3), re-encoded from its fields. */
  encodeRow(i: number, out = new Uint8Array(7), offset = 0): Uint8Array {
    const type = this.type[i]!;
    if (type > 3) throw new HutchError(ErrorCode.Validation, `row ${i} is type ${type}, not a UART packet`);
    const w = wordOf({
      type: type as 0 | 1 | 2 | 3,
      chipId: this.chipId[i]!,
      channel: this.channel[i]!,
      timestamp: this.timestamp32[2 * i]!,
      adc: this.adc[i]!,
      fifoHalf: this.fifoHalf[i]!,
      fifoFull: this.fifoFull[i]!,
      register: this.register[i]!,
      value: this.value[i]!,
      counter: this.counter[i]!,
      parity: this.parity[i]!,
    });
    writeWord(w, out, offset);
    return out;
  }
}

/** Decodes one word (`lo` = bits 31..0, `hi` = bits 53..32, pad bits cleared) into row `i`; other fields stay 0. */
function decodeOne(lo: number, hi: number, i: number, out: LarpixPacketBatch): void {
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
  if (t === 0) {
    out.channel[i] = (lo >>> 10) & 0x7f;
    out.timestamp32[2 * i] = (lo >>> 17) | ((hi & 0x1ff) << 15);
    out.adc[i] = (hi >>> 9) & 0x3ff;
    out.fifoHalf[i] = (hi >>> 19) & 1;
    out.fifoFull[i] = (hi >>> 20) & 1;
  } else if (t === 1) {
    out.counter[i] = (((lo >>> 10) & 0xf) << 12) | ((hi >>> 9) & 0xfff);
  } else {
    out.register[i] = lo >>> 10;
    out.value[i] = lo >>> 18;
  }
}

let scratch = new Int32Array(0);
function scratchWords(n: number): Int32Array {
  if (scratch.length < n) scratch = new Int32Array(Math.max(n, 2 * scratch.length));
  return scratch;
}

/** The hot loop: `n` words (int32 pairs, low half first) into rows `start..`, columns hoisted, body inlined. */
function decodeAligned(w: Int32Array, n: number, start: number, out: LarpixPacketBatch): void {
  const { type, chipId, channel, timestamp32, adc, fifoHalf, fifoFull, parity, validParity } = out;
  const { register, value, counter } = out;
  for (let k = 0; k < n; k++) {
    const lo = w[2 * k]!;
    const hi = w[2 * k + 1]! & 0x3fffff;
    const i = start + k;
    const t = lo & 3;
    type[i] = t;
    chipId[i] = lo >>> 2;
    parity[i] = hi >>> 21;
    let x = lo ^ hi;
    x ^= x >>> 16;
    x ^= x >>> 8;
    x ^= x >>> 4;
    validParity[i] = (0x6996 >>> (x & 15)) & 1;
    if (t === 0) {
      channel[i] = (lo >>> 10) & 0x7f;
      timestamp32[2 * i] = (lo >>> 17) | ((hi & 0x1ff) << 15);
      adc[i] = (hi >>> 9) & 0x3ff;
      fifoHalf[i] = (hi >>> 19) & 1;
      fifoFull[i] = (hi >>> 20) & 1;
    } else if (t === 1) {
      counter[i] = (((lo >>> 10) & 0xf) << 12) | ((hi >>> 9) & 0xfff);
    } else {
      register[i] = lo >>> 10;
      value[i] = lo >>> 18;
    }
  }
}

/** Where the words of a buffer came from: they share io group and io channel. */
export interface WordSource {
  readonly ioGroup: number;
  readonly ioChannel: number;
  /** Default `fromChips` (1). */
  readonly direction?: number;
}

/**
 * Decodes `count` packets starting at `bytes[offset]`, one every `stride` bytes (7 for bare UART bytes, 8 for
 * board words), appending them to `out`. Returns how many were appended (fewer when `out` is full). Parity is
 * checked for every packet (`validParity` 1 = odd = good); packets with bad parity are kept, as larpix-control
 * does, and counted by the caller.
 */
export function decodeWords(
  bytes: Uint8Array,
  offset: number,
  count: number,
  stride: number,
  src: WordSource,
  out: LarpixPacketBatch,
): number {
  if (offset + (count - 1) * stride + 7 > bytes.byteLength && count > 0) {
    throw new HutchError(
      ErrorCode.Validation,
      `LArPix decode: ${count} packets of stride ${stride} from offset ${offset} overrun ${bytes.byteLength} bytes`,
    );
  }
  const n = Math.min(count, out.free);
  const start = out.n;
  if (stride === 8) {
    // Board words: two uint32 loads per packet (unaligned messages are copied to an aligned scratch first).
    // Read as int32: V8 keeps int32 values in registers, while uint32 values >= 2^31 become doubles.
    let w: Int32Array;
    if ((bytes.byteOffset + offset) % 4 === 0)
      w = new Int32Array(bytes.buffer, bytes.byteOffset + offset, 2 * n);
    else {
      w = scratchWords(2 * n);
      new Uint8Array(w.buffer, 0, 8 * n).set(bytes.subarray(offset, offset + 8 * n));
    }
    decodeAligned(w, n, start, out);
  } else {
    for (let k = 0; k < n; k++) {
      const o = offset + k * stride;
      const lo = (bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24)) >>> 0;
      const hi = (bytes[o + 4]! | (bytes[o + 5]! << 8) | (bytes[o + 6]! << 16)) & 0x3fffff;
      decodeOne(lo, hi, start + k, out);
    }
  }
  out.ioGroup.fill(src.ioGroup, start, start + n);
  out.ioChannel.fill(src.ioChannel, start, start + n);
  out.direction.fill(src.direction ?? 1, start, start + n);
  out.n += n;
  return n;
}
