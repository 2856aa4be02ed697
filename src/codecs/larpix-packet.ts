// LArPix v1 packets: the 54-bit UART word (7 bytes, first byte sent first), its fields, odd parity; encode one packet.
import { ErrorCode, HutchError } from "../core/index.js";

/**
 * Bytes of one packet on the UART (54 bits + 2 zero pad bits). Byte 0 is sent first and holds the packet type and
 * the low 6 bits of the chip id. Read the 7 bytes as one little-endian integer V; the fields sit at these bits of V
 * (the datasheet numbers them the other way round, bit 53 of the datasheet being bit 0 of V):
 *
 * | field        | bits of V | type       |
 * | ------------ | --------- | ---------- |
 * | type         | 1..0      | all        |
 * | chip id      | 9..2      | all        |
 * | channel      | 16..10    | data       |
 * | timestamp    | 40..17    | data       |
 * | ADC          | 50..41    | data       |
 * | FIFO half    | 51        | data       |
 * | FIFO full    | 52        | data       |
 * | register     | 17..10    | config     |
 * | value        | 25..18    | config     |
 * | counter 15:12| 13..10    | test       |
 * | counter 11:0 | 52..41    | test       |
 * | parity (odd) | 53        | all        |
 *
 * This is the byte order of larpix-control's `Packet_v1.bytes()`, so words from real boards decode unchanged.
 */
export const LARPIX_PACKET_BYTES = 7;
/** Bytes of one word in a board data message: the 7 packet bytes and one zero byte. */
export const LARPIX_WORD_BYTES = 8;
/** Channels of a LArPix v1 chip. */
export const LARPIX_CHANNELS = 32;
/** Configuration registers of a LArPix v1 chip. */
export const LARPIX_REGISTERS = 63;
/** The chip timestamp counts a 5 MHz clock in 24 bits: it rolls over every 2^24 / 5e6 = 3.355 s. */
export const LARPIX_CLOCK_HZ = 5_000_000;
/** Bits of the chip timestamp. */
export const LARPIX_TIMESTAMP_BITS = 24;
/** Largest ADC value (10 bits). */
export const LARPIX_ADC_MAX = 1023;

/**
 * Packet type codes: 0..3 are LArPix UART packets; 4 and 5 are the LArPix+HDF5 codes for timestamp and
 * message rows (they never travel on a UART).
 */
export const LARPIX_TYPE = {
  data: 0,
  test: 1,
  configWrite: 2,
  configRead: 3,
  timestamp: 4,
  message: 5,
} as const;
/** A packet type code. */
export type LarpixType = (typeof LARPIX_TYPE)[keyof typeof LARPIX_TYPE];

/**
 * Descriptor `configuration.format` of the streams a LArPix source publishes; file layouts (LArPix+HDF5) find
 * the LArPix streams by it, whatever the streams are named.
 */
export const LARPIX_STREAM_FORMAT = { packets: "larpix-packets/1", messages: "larpix-messages/1" } as const;

/** The lookup table larpix-control stores in the `packet_types` attribute of `packets`. */
export const LARPIX_PACKET_TYPES_ATTR =
  "\n0: 'data',\n1: 'test',\n2: 'config write',\n3: 'config read',\n4: 'timestamp',\n5: 'message',\n";

/** The fields of one LArPix packet; unused fields of a type are 0 (as larpix-control's export does). */
export interface LarpixPacketFields {
  readonly type: 0 | 1 | 2 | 3;
  readonly chipId: number;
  readonly channel?: number;
  /** Chip timestamp in 5 MHz ticks, 24 bits. */
  readonly timestamp?: number;
  /** ADC counts, 10 bits. */
  readonly adc?: number;
  readonly fifoHalf?: number;
  readonly fifoFull?: number;
  readonly register?: number;
  readonly value?: number;
  /** Test packets: 16-bit counter. */
  readonly counter?: number;
  /** The parity bit to send; default the odd-parity bit. Give the other value to make a bad packet. */
  readonly parity?: number;
}

/** The packet as two 32-bit halves of V: `lo` = bits 31..0, `hi` = bits 55..32 (pad bits 55, 54 zero). */
export interface PacketWord {
  readonly lo: number;
  readonly hi: number;
}

/**
 * Parity (xor) of the 54 packet bits of a word: 1 when an odd number of bits is set, which is what a valid
 * packet shows (the parity bit makes the count odd).
 */
export function wordParity(lo: number, hi: number): number {
  let x = lo ^ (hi & 0x3fffff);
  x ^= x >>> 16;
  x ^= x >>> 8;
  x ^= x >>> 4;
  x ^= x >>> 2;
  x ^= x >>> 1;
  return x & 1;
}

function check(name: string, v: number, bits: number): number {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) {
    throw new HutchError(ErrorCode.Validation, `LArPix packet: ${name} ${v} does not fit in ${bits} bits`);
  }
  return v;
}

/**
 * The word of a packet from its fields (values checked against their widths); the parity bit is computed unless
 * given.
 * @example wordOf({ type: 2, chipId: 246, register: 32, value: 40 }) // a config write of the global threshold
 */
export function wordOf(f: LarpixPacketFields): PacketWord {
  check("type", f.type, 2);
  let lo = f.type | (check("chip id", f.chipId, 8) << 2);
  let hi = 0;
  if (f.type === LARPIX_TYPE.data) {
    const ts = check("timestamp", f.timestamp ?? 0, 24);
    lo |= (check("channel", f.channel ?? 0, 7) << 10) | ((ts & 0x7fff) << 17);
    hi |= (ts >>> 15) | (check("adc", f.adc ?? 0, 10) << 9);
    hi |= (check("fifo half", f.fifoHalf ?? 0, 1) << 19) | (check("fifo full", f.fifoFull ?? 0, 1) << 20);
  } else if (f.type === LARPIX_TYPE.test) {
    const c = check("counter", f.counter ?? 0, 16);
    lo |= (c >>> 12) << 10;
    hi |= (c & 0xfff) << 9;
  } else {
    lo |= (check("register", f.register ?? 0, 8) << 10) | (check("value", f.value ?? 0, 8) << 18);
  }
  lo >>>= 0;
  const parity = f.parity === undefined ? 1 - wordParity(lo, hi) : check("parity", f.parity, 1);
  return { lo, hi: (hi | (parity << 21)) >>> 0 };
}

/** Writes a word as the 7 UART bytes at `out[offset..offset+6]` (byte 0 first). */
export function writeWord(w: PacketWord, out: Uint8Array, offset = 0): void {
  out[offset] = w.lo & 0xff;
  out[offset + 1] = (w.lo >>> 8) & 0xff;
  out[offset + 2] = (w.lo >>> 16) & 0xff;
  out[offset + 3] = w.lo >>> 24;
  out[offset + 4] = w.hi & 0xff;
  out[offset + 5] = (w.hi >>> 8) & 0xff;
  out[offset + 6] = (w.hi >>> 16) & 0xff;
}

/** Reads the word of the 7 UART bytes at `bytes[offset..]`. */
export function readWord(bytes: Uint8Array, offset = 0): PacketWord {
  const lo =
    (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>>
    0;
  const hi = bytes[offset + 4]! | (bytes[offset + 5]! << 8) | (bytes[offset + 6]! << 16);
  return { lo, hi };
}

/**
 * The 7 UART bytes of a packet.
 * @example encodePacket({ type: 0, chipId: 246, channel: 5, timestamp: 1000, adc: 512 }) // Uint8Array(7)
 */
export function encodePacket(f: LarpixPacketFields, out = new Uint8Array(7), offset = 0): Uint8Array {
  writeWord(wordOf(f), out, offset);
  return out;
}

/** The fields of one packet word, with its parity check (for tests, the simulator and debugging, not the hot path). */
export function fieldsOf(w: PacketWord): LarpixPacketFields & { validParity: boolean } {
  const { lo, hi } = w;
  const type = (lo & 3) as 0 | 1 | 2 | 3;
  const base = {
    type,
    chipId: (lo >>> 2) & 0xff,
    parity: (hi >>> 21) & 1,
    validParity: wordParity(lo, hi) === 1,
  };
  if (type === LARPIX_TYPE.data) {
    return {
      ...base,
      channel: (lo >>> 10) & 0x7f,
      timestamp: (lo >>> 17) | ((hi & 0x1ff) << 15),
      adc: (hi >>> 9) & 0x3ff,
      fifoHalf: (hi >>> 19) & 1,
      fifoFull: (hi >>> 20) & 1,
    };
  }
  if (type === LARPIX_TYPE.test)
    return { ...base, counter: (((lo >>> 10) & 0xf) << 12) | ((hi >>> 9) & 0xfff) };
  return { ...base, register: (lo >>> 10) & 0xff, value: (lo >>> 18) & 0xff };
}

/**
 * The hex string larpix-control's ZMQ IO sends after `SNDWORD `: `0x00` then the 7 bytes from last to first.
 * @example sndwordHex(encodePacket({ type: 2, chipId: 1 })) // "0x00...04" style
 */
export function sndwordHex(bytes7: Uint8Array, offset = 0): string {
  let s = "0x00";
  for (let i = 6; i >= 0; i--) s += bytes7[offset + i]!.toString(16).padStart(2, "0");
  return s;
}

/** The 7 UART bytes from a `SNDWORD` hex argument (`0x00` + 14 hex digits, last byte first); throws when malformed. */
export function parseSndwordHex(hex: string): Uint8Array {
  const m = /^0x([0-9a-fA-F]{1,16})$/.exec(hex);
  if (!m) {
    throw new HutchError(
      ErrorCode.Validation,
      `SNDWORD: expected 0x followed by 16 hex digits, got '${hex}'`,
    );
  }
  const digits = m[1]!.padStart(16, "0");
  if (digits.slice(0, 2) !== "00") {
    throw new HutchError(ErrorCode.Validation, `SNDWORD: the first byte of '${hex}' must be 00`);
  }
  const out = new Uint8Array(7);
  for (let i = 0; i < 7; i++) out[6 - i] = parseInt(digits.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}
