// Columnar batches of LArPix packets: whole buffers of 7-byte words decoded into typed arrays, no object per packet.
import { ErrorCode, HutchError } from "../core/index.js";
import { LARPIX_TYPE, wordOf, wordParity, writeWord } from "./larpix-packet.js";

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
 * A reusable columnar batch of packets: row i is packet i. Unused fields of a row are 0 (a data packet has no
 * register, a config packet no timestamp), as in larpix-control's export. `timestamp` holds the 24-bit chip
 * timestamp for data packets and the unix time for timestamp rows (type 4). Allocated once; `clear()` empties it.
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

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new HutchError(ErrorCode.Validation, `packet batch capacity must be >= 1, got ${capacity}`);
    }
    if (!LITTLE_ENDIAN)
      throw new HutchError(ErrorCode.Internal, "LArPix decoding needs a little-endian host");
    const n = capacity;
    this.timestamp = new BigUint64Array(n);
    this.timestamp32 = new Uint32Array(this.timestamp.buffer);
    this.counter = new Uint32Array(n);
    this.adc = new Uint16Array(n);
    const u8 = new Uint8Array(12 * n);
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
  const aligned = stride === 8 && (bytes.byteOffset + offset) % 4 === 0;
  const u32 = aligned ? new Uint32Array(bytes.buffer, bytes.byteOffset + offset, 2 * n) : undefined;
  const { type, chipId, channel, timestamp32, adc, fifoHalf, fifoFull, parity, validParity } = out;
  const { register, value, counter } = out;
  for (let k = 0; k < n; k++) {
    let lo: number;
    let hi: number;
    if (u32) {
      lo = u32[2 * k]!;
      hi = u32[2 * k + 1]! & 0xffffff;
    } else {
      const o = offset + k * stride;
      lo = (bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24)) >>> 0;
      hi = bytes[o + 4]! | (bytes[o + 5]! << 8) | (bytes[o + 6]! << 16);
    }
    const i = start + k;
    const t = lo & 3;
    // Uint8Array stores keep the low 8 bits: `lo >>> 2` is the chip id, `lo >>> 10` the register.
    type[i] = t;
    chipId[i] = lo >>> 2;
    parity[i] = (hi >>> 21) & 1;
    validParity[i] = wordParity(lo, hi);
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
  out.ioGroup.fill(src.ioGroup, start, start + n);
  out.ioChannel.fill(src.ioChannel, start, start + n);
  out.direction.fill(src.direction ?? 1, start, start + n);
  out.n += n;
  return n;
}
