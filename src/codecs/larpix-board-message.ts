// LArPix data-board messages (larpix-control's "data server" format v1.0): an 8-byte header, then 8-byte words.
import { ErrorCode, HutchError } from "../core/index.js";
import { LARPIX_WORD_BYTES } from "./larpix-packet.js";

/**
 * Header byte 2 of a board message: `D` LArPix data, `T` a unix timestamp, `H` a heartbeat.
 *
 * | bytes | data (`D`)           | timestamp (`T`)              | heartbeat (`H`) |
 * | ----- | -------------------- | ---------------------------- | --------------- |
 * | 0, 1  | major 1, minor 0     | same                         | same            |
 * | 2     | `D`                  | `T`                          | `H`             |
 * | 3     | io channel           | unused                       | `H`             |
 * | 4..7  | unused (0)           | unused                       | 4 = `B`         |
 * | 8..   | N words: 7 UART bytes + 0x00 | 7-byte little-endian unix time + 0x00 | -   |
 */
export const BOARD_MESSAGE_KIND = { data: 0x44, timestamp: 0x54, heartbeat: 0x48 } as const;
/** Bytes of the header word. */
export const BOARD_HEADER_BYTES = 8;
/** The message format version this codec speaks (major must match; a different minor is accepted). */
export const BOARD_MESSAGE_VERSION = [1, 0] as const;

/** Why a board message is refused; counted by the source as `messages_rejected_<reason>`. */
export const BOARD_REJECTIONS = {
  short: "short",
  version: "version",
  kind: "unknown_kind",
  length: "bad_length",
} as const;
/** A rejection reason. */
export type BoardRejection = (typeof BOARD_REJECTIONS)[keyof typeof BOARD_REJECTIONS];

/** What a board message holds (read from its header; data words are decoded by `decodeWords`). */
export type BoardMessageInfo =
  | { readonly kind: "data"; readonly ioChannel: number; readonly packets: number }
  | { readonly kind: "timestamp"; readonly time: number }
  | { readonly kind: "heartbeat" }
  | { readonly kind: "rejected"; readonly reason: BoardRejection; readonly detail: string };

const rejected = (reason: BoardRejection, detail: string): BoardMessageInfo => ({
  kind: "rejected",
  reason,
  detail,
});

/**
 * Reads a board message's header: what it is, or why it is refused (never throws on bad input). A data message's
 * words start at byte 8, one every 8 bytes.
 * @example const m = readBoardMessage(msg); if (m.kind === "data") decodeWords(msg, 8, m.packets, 8, {...}, batch);
 */
export function readBoardMessage(msg: Uint8Array): BoardMessageInfo {
  const len = msg.byteLength;
  if (len < BOARD_HEADER_BYTES)
    return rejected(BOARD_REJECTIONS.short, `${len} bytes, less than the 8-byte header`);
  if (msg[0] !== BOARD_MESSAGE_VERSION[0]) {
    return rejected(
      BOARD_REJECTIONS.version,
      `version ${msg[0]}.${msg[1]}, expected ${BOARD_MESSAGE_VERSION[0]}.x`,
    );
  }
  switch (msg[2]) {
    case BOARD_MESSAGE_KIND.data: {
      const payload = len - BOARD_HEADER_BYTES;
      if (payload % LARPIX_WORD_BYTES !== 0) {
        return rejected(
          BOARD_REJECTIONS.length,
          `data payload of ${payload} bytes is not a whole number of 8-byte words`,
        );
      }
      return { kind: "data", ioChannel: msg[3]!, packets: payload / LARPIX_WORD_BYTES };
    }
    case BOARD_MESSAGE_KIND.timestamp: {
      if (len < BOARD_HEADER_BYTES + 7) {
        return rejected(BOARD_REJECTIONS.length, `timestamp message of ${len} bytes, expected 16`);
      }
      let t = 0;
      for (let i = 6; i >= 0; i--) t = t * 256 + msg[BOARD_HEADER_BYTES + i]!;
      return { kind: "timestamp", time: t };
    }
    case BOARD_MESSAGE_KIND.heartbeat:
      return { kind: "heartbeat" };
    default:
      return rejected(
        BOARD_REJECTIONS.kind,
        `unknown message kind 0x${msg[2]!.toString(16).padStart(2, "0")}`,
      );
  }
}

function header(kind: number, byte3 = 0, byte4 = 0): Buffer {
  const h = Buffer.alloc(BOARD_HEADER_BYTES);
  h[0] = BOARD_MESSAGE_VERSION[0];
  h[1] = BOARD_MESSAGE_VERSION[1];
  h[2] = kind;
  h[3] = byte3;
  h[4] = byte4;
  return h;
}

/**
 * A data message of `count` packets whose 7 UART bytes are packed back to back in `packed` (7 x count bytes).
 * @example encodeDataMessage(1, encodePacket({ type: 0, chipId: 246, adc: 100 }), 1) // 16 bytes
 */
export function encodeDataMessage(
  ioChannel: number,
  packed: Uint8Array,
  count = packed.byteLength / 7,
): Buffer {
  if (!Number.isInteger(count) || packed.byteLength < 7 * count) {
    throw new HutchError(
      ErrorCode.Validation,
      `data message: ${packed.byteLength} bytes do not hold ${count} packets`,
    );
  }
  const out = Buffer.alloc(BOARD_HEADER_BYTES + LARPIX_WORD_BYTES * count);
  header(BOARD_MESSAGE_KIND.data, ioChannel).copy(out, 0);
  for (let k = 0; k < count; k++) {
    out.set(packed.subarray(7 * k, 7 * k + 7), BOARD_HEADER_BYTES + LARPIX_WORD_BYTES * k);
  }
  return out;
}

/** A timestamp message carrying a unix time (seconds, integer, < 2^53) in 7 little-endian bytes. */
export function encodeTimestampMessage(unixSec: number): Buffer {
  if (!Number.isSafeInteger(unixSec) || unixSec < 0 || unixSec >= 2 ** 53) {
    throw new HutchError(ErrorCode.Validation, `timestamp message: ${unixSec} is not a non-negative integer`);
  }
  const out = Buffer.alloc(BOARD_HEADER_BYTES + 8);
  header(BOARD_MESSAGE_KIND.timestamp).copy(out, 0);
  let t = unixSec;
  for (let i = 0; i < 7; i++) {
    out[BOARD_HEADER_BYTES + i] = t % 256;
    t = Math.floor(t / 256);
  }
  return out;
}

/** A heartbeat message (`H` with `HB` in bytes 3 and 4). */
export function encodeHeartbeatMessage(): Buffer {
  return header(BOARD_MESSAGE_KIND.heartbeat, 0x48, 0x42);
}
