// Columnar batches of LArPix packets: whole buffers of 7-byte words decoded into typed arrays, no object per packet.
import { ErrorCode, HutchError, nativeAddon } from "../core/index.js";
import { decodeDataSteps, decodeRow } from "./larpix-decode-kernels.js";
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

  /**
   * The whole batch as 32-bit words, for the decoder's four-rows-per-store writes: uint8 column `c` (in the order
   * of the constructor) starts at word `typeWord + (c - 3) * columnWords`, the ADC column at `adcWord`, the
   * timestamp column at word 0.
   */
  readonly words: Uint32Array;
  /** 32-bit words per uint8 column (columns are `capacity` rounded up to 4 bytes long). */
  readonly columnWords: number;
  /** Word offset of the `type` column. */
  readonly typeWord: number;
  /** Word offset of the `adc` column. */
  readonly adcWord: number;
  /** Byte offsets (from `words`) of the columns the native decoder writes, in its order. */
  readonly nativeOffsets: Int32Array;
  /**
   * Rows from this one up hold 0 in `register`, `value`, `counter` and the timestamp's high half (a new batch is
   * all zeros; data rows leave these alone), so the decoder skips zeroing them there. Raised by rows of other
   * types.
   */
  zeroFrom = 0;

  /** Bytes of memory a batch of `capacity` rows lives in (for `region`). */
  static bytesFor(capacity: number): number {
    return 30 * ((capacity + 3) & ~3);
  }

  /**
   * @param region where the columns live: `bytesFor(capacity)` zeroed bytes at an 8-byte aligned offset (a
   *   ByteSlab region: many batches share one ArrayBuffer); default a new ArrayBuffer.
   */
  constructor(
    readonly capacity: number,
    region?: { readonly buffer: ArrayBuffer; readonly offset: number },
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new HutchError(ErrorCode.Validation, `packet batch capacity must be >= 1, got ${capacity}`);
    }
    if (!LITTLE_ENDIAN)
      throw new HutchError(ErrorCode.Internal, "LArPix decoding needs a little-endian host");
    const n = capacity;
    // Columns are `s` (capacity rounded up to 4) rows apart, 8-byte column first, then 4, 2 and 1 byte columns:
    // every view is aligned and every uint8 column starts on a 4-byte boundary.
    const s = (n + 3) & ~3;
    const bytes = LarpixPacketBatch.bytesFor(n);
    const buf = region?.buffer ?? new ArrayBuffer(bytes);
    const at = region?.offset ?? 0;
    if (at % 8 !== 0 || at + bytes > buf.byteLength) {
      throw new HutchError(
        ErrorCode.Validation,
        `packet batch region: ${bytes} bytes at offset ${at} do not fit an 8-byte aligned place in ${buf.byteLength} bytes`,
      );
    }
    this.timestamp = new BigUint64Array(buf, at, n);
    this.timestamp32 = new Uint32Array(buf, at, 2 * n);
    this.counter = new Uint32Array(buf, at + 8 * s, n);
    this.pixel = new Int32Array(buf, at + 12 * s, n);
    this.adc = new Uint16Array(buf, at + 16 * s, n);
    const col = (i: number) => new Uint8Array(buf, at + (18 + i) * s, n);
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
    this.words = new Uint32Array(buf, at, bytes / 4);
    this.columnWords = s / 4;
    this.typeWord = ((18 + 3) * s) / 4;
    this.adcWord = (16 * s) / 4;
    // timestamp, counter, adc, chip id, type, channel, FIFO half, FIFO full, parity, valid parity, register, value
    this.nativeOffsets = Int32Array.of(
      0,
      8 * s,
      16 * s,
      ...[2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => (18 + i) * s),
    );
  }

  /** Rows still free. */
  get free(): number {
    return this.capacity - this.n;
  }

  /**
   * Empties the batch. Nothing is zeroed: every writer (the decoder, `pushTimestamp`) writes all columns of the
   * rows it appends (fields a row does not use get 0), except `pixel`, which the source fills.
   */
  clear(): void {
    this.n = 0;
  }

  /** Appends a timestamp row (type 4): `unixTime` in the `timestamp` field (up to 2^53); other fields 0. */
  pushTimestamp(unixTime: number, ioGroup: number): boolean {
    if (this.n >= this.capacity) return false;
    const i = this.n++;
    decodeRow(0, 0, i, this); // zeroes the packet fields
    if (i >= this.zeroFrom) this.zeroFrom = i + 1;
    this.type[i] = LARPIX_TYPE.timestamp;
    this.validParity[i] = 0;
    this.ioGroup[i] = ioGroup;
    this.ioChannel[i] = 0;
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

let scratch = new Int32Array(0);
function scratchWords(n: number): Int32Array {
  if (scratch.length < n) scratch = new Int32Array(Math.max(n, 2 * scratch.length));
  return scratch;
}

let useNative = nativeAddon !== undefined;

/**
 * Chooses the board-word decoder: the native one (when built) or the TypeScript one; returns the previous choice.
 * The two write the same columns (test/larpix-native.test.ts); the switch is for that test and the benchmark.
 */
export function useNativeLarpixDecoder(on: boolean): boolean {
  const was = useNative;
  useNative = on && nativeAddon !== undefined;
  return was;
}

/** True when board words are decoded by the native decoder. */
export function nativeLarpixDecoder(): boolean {
  return useNative;
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
    // Board words: two int32 loads per packet (unaligned messages are copied to an aligned scratch first).
    // Read as int32: V8 keeps int32 values in registers, while uint32 values >= 2^31 become doubles.
    let w: Int32Array;
    if ((bytes.byteOffset + offset) % 4 === 0)
      w = new Int32Array(bytes.buffer, bytes.byteOffset + offset, 2 * n);
    else {
      w = scratchWords(2 * n);
      new Uint8Array(w.buffer, 0, 8 * n).set(bytes.subarray(offset, offset + 8 * n));
    }
    if (useNative) {
      // Every field of every row is written: rows after the last non-data packet keep zeros where data packets
      // have no field, so `zeroFrom` only has to rise past it.
      const last = nativeAddon!.larpixDecode(w, n, start, out.words, out.nativeOffsets);
      if (last > out.zeroFrom) out.zeroFrom = last;
      return finish(out, src, start, n);
    }
    // Rows up to a multiple of 4 one by one, then four at a time, then the rest one by one.
    let k = 0;
    for (; k < n && ((start + k) & 3) !== 0; k++)
      decodeRow(w[2 * k]!, w[2 * k + 1]! & 0x3fffff, start + k, out);
    if (n - k >= 4) {
      // The four-row steps leave the fields data packets do not have alone: zero them (memset) where an earlier
      // packet of another type may have left something (rows below `zeroFrom`, in a reused batch).
      const a = start + k;
      const b = Math.min(start + n, out.zeroFrom);
      if (a < b) {
        out.register.fill(0, a, b);
        out.value.fill(0, a, b);
        out.counter.fill(0, a, b);
        out.timestamp32.fill(0, 2 * a, 2 * b);
        if (b === out.zeroFrom) out.zeroFrom = a;
      }
      for (;;) {
        k = decodeDataSteps(w, k, n, start, out);
        if (n - k < 4) break;
        // Four words that are not all data packets: row by row.
        for (const end = k + 4; k < end; k++) decodeRow(w[2 * k]!, w[2 * k + 1]! & 0x3fffff, start + k, out);
      }
    }
    for (; k < n; k++) decodeRow(w[2 * k]!, w[2 * k + 1]! & 0x3fffff, start + k, out);
  } else {
    for (let k = 0; k < n; k++) {
      const o = offset + k * stride;
      const lo = bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24);
      const hi = (bytes[o + 4]! | (bytes[o + 5]! << 8) | (bytes[o + 6]! << 16)) & 0x3fffff;
      decodeRow(lo, hi, start + k, out);
    }
  }
  return finish(out, src, start, n);
}

/** Fills the columns shared by all words of a source and counts the rows in. */
function finish(out: LarpixPacketBatch, src: WordSource, start: number, n: number): number {
  out.ioGroup.fill(src.ioGroup, start, start + n);
  out.ioChannel.fill(src.ioChannel, start, start + n);
  out.direction.fill(src.direction ?? 1, start, start + n);
  out.n += n;
  return n;
}
