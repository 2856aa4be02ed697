// The larpix-daq record stream: a 3-byte header `00 01 '/'`, then 10 bytes per packet (kind, 7 bytes, io group, io channel).
import { ErrorCode, HutchError } from "../core/index.js";
import { LARPIX_TYPE } from "./larpix-packet.js";
import { decodeWords, type LarpixPacketBatch } from "./larpix-packet-batch.js";

/** The header of a record stream: format version 0.1 and a `/` separator. */
export const DAQ_RECORD_HEADER = Uint8Array.of(0x00, 0x01, 0x2f);
/** Bytes of one record. */
export const DAQ_RECORD_BYTES = 10;
/** Record kinds (byte 0 of a record). */
export const DAQ_RECORD_KIND = { larpix: 0, timestamp: 1 } as const;

/**
 * Encodes rows `[start, end)` of a batch as a record stream: LArPix packets (types 0..3) re-encoded from their
 * fields, timestamp rows (type 4) as 7 little-endian bytes of the time. Message rows (type 5) have no record
 * and are refused.
 * @example const bytes = encodeDaqRecords(batch); decodeDaqRecords(bytes, other) === batch.n
 */
export function encodeDaqRecords(b: LarpixPacketBatch, start = 0, end = b.n): Buffer {
  const out = Buffer.alloc(DAQ_RECORD_HEADER.length + DAQ_RECORD_BYTES * (end - start));
  out.set(DAQ_RECORD_HEADER, 0);
  for (let i = start; i < end; i++) {
    const o = DAQ_RECORD_HEADER.length + DAQ_RECORD_BYTES * (i - start);
    const type = b.type[i]!;
    if (type === LARPIX_TYPE.timestamp) {
      out[o] = DAQ_RECORD_KIND.timestamp;
      let t = b.timestamp32[2 * i]! + b.timestamp32[2 * i + 1]! * 0x1_0000_0000;
      for (let k = 0; k < 7; k++) {
        out[o + 1 + k] = t % 256;
        t = Math.floor(t / 256);
      }
    } else if (type <= LARPIX_TYPE.configRead) {
      out[o] = DAQ_RECORD_KIND.larpix;
      b.encodeRow(i, out, o + 1);
    } else {
      throw new HutchError(ErrorCode.Validation, `DAQ record: row ${i} of type ${type} has no record form`);
    }
    out[o + 8] = b.ioGroup[i]!;
    out[o + 9] = b.ioChannel[i]!;
  }
  return out;
}

/** Why `bytes` is not a record stream, or undefined when it is one. */
export function daqRecordsProblem(bytes: Uint8Array): string | undefined {
  if (bytes.byteLength < 3 || bytes[0] !== 0x00 || bytes[1] !== 0x01 || bytes[2] !== 0x2f) {
    return "missing the 3-byte header 00 01 '/'";
  }
  const body = bytes.byteLength - 3;
  if (body % DAQ_RECORD_BYTES !== 0)
    return `${body} bytes after the header is not a whole number of 10-byte records`;
  return undefined;
}

/**
 * Decodes a record stream into `out` (timestamp records become type-4 rows). Throws HUTCH_ERR_WIRE for a bad
 * header or length, or an unknown record kind (naming the record). Returns the rows appended (fewer when full).
 */
export function decodeDaqRecords(bytes: Uint8Array, out: LarpixPacketBatch): number {
  const problem = daqRecordsProblem(bytes);
  if (problem) throw new HutchError(ErrorCode.Wire, `DAQ record stream: ${problem}`);
  const count = (bytes.byteLength - 3) / DAQ_RECORD_BYTES;
  const first = out.n;
  for (let r = 0; r < count && out.free > 0; r++) {
    const o = 3 + DAQ_RECORD_BYTES * r;
    const kind = bytes[o]!;
    if (kind === DAQ_RECORD_KIND.larpix) {
      decodeWords(bytes, o + 1, 1, 7, { ioGroup: bytes[o + 8]!, ioChannel: bytes[o + 9]! }, out);
    } else if (kind === DAQ_RECORD_KIND.timestamp) {
      let t = 0;
      for (let k = 6; k >= 0; k--) t = t * 256 + bytes[o + 1 + k]!;
      out.pushTimestamp(t, bytes[o + 8]!);
      out.ioChannel[out.n - 1] = bytes[o + 9]!;
    } else {
      throw new HutchError(ErrorCode.Wire, `DAQ record stream: record ${r} has unknown kind ${kind}`);
    }
  }
  return out.n - first;
}
