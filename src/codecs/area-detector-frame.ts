// The area-detector link: length-framed frames (binary header + raw uint16 pixels) and JSON control messages over TCP.
import { ErrorCode, HutchError } from "../core/index.js";

/** `HDAD` read as a little-endian uint32: the first bytes of every message. */
export const AD_MAGIC = 0x44414448;
/** Protocol version. */
export const AD_VERSION = 1;
/** Bytes of the preamble every message starts with. */
export const AD_PREAMBLE_BYTES = 16;
/** Bytes of a frame's binary header (after the preamble). */
export const AD_FRAME_META_BYTES = 48;
/** Frames larger than this are refused before anything is allocated (a 2880 x 2880 uint16 frame is 16.6 MB). */
export const AD_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
const MAX_JSON_BYTES = 1024 * 1024;

/** Message types. */
export const AdMessageType = { frame: 1, json: 2 } as const;

/** Bits of a frame's `flags`. */
export const AdFrameFlags = {
  /** Read out because of an external trigger. */
  triggered: 1,
  /** Read out in idle (free-running) mode: the detector had no trigger for too long. A real detector may not say. */
  freeRun: 2,
  /** Simulator truth: the beam hit this frame (a data frame). */
  shot: 4,
  /** The driver reported a fault for this frame. */
  fault: 8,
} as const;

/** The binary header of one frame. */
export interface AdFrameMeta {
  /** The detector's running frame counter (wraps at 2^32). */
  readonly frameNumber: number;
  /** Number of the trigger pulse that caused the frame, 0 when none did. */
  readonly triggerNumber: number;
  readonly flags: number;
  readonly width: number;
  readonly height: number;
  readonly gain: number;
  readonly binning: number;
  /** Readout time of this frame, microseconds. */
  readonly readoutUs: number;
  /** When the readout ended, unix seconds. */
  readonly time: number;
}

/**
 * Encodes a frame as two buffers to write back to back (header, then the pixels without copying them).
 * @example for (const b of encodeAdFrame(meta, pixels)) socket.write(b);
 */
export function encodeAdFrame(meta: AdFrameMeta, pixels: Uint16Array): [Buffer, Buffer] {
  if (pixels.length !== meta.width * meta.height) {
    throw new HutchError(
      ErrorCode.Validation,
      `frame of ${meta.width} x ${meta.height} needs ${meta.width * meta.height} pixels, got ${pixels.length}`,
    );
  }
  const h = Buffer.alloc(AD_PREAMBLE_BYTES + AD_FRAME_META_BYTES);
  h.writeUInt32LE(AD_MAGIC, 0);
  h.writeUInt8(AD_VERSION, 4);
  h.writeUInt8(AdMessageType.frame, 5);
  h.writeUInt32LE(AD_FRAME_META_BYTES, 8);
  h.writeUInt32LE(pixels.byteLength, 12);
  const m = AD_PREAMBLE_BYTES;
  h.writeUInt32LE(meta.frameNumber >>> 0, m);
  h.writeUInt32LE(meta.triggerNumber >>> 0, m + 4);
  h.writeUInt32LE(meta.flags >>> 0, m + 8);
  h.writeUInt16LE(meta.width, m + 12);
  h.writeUInt16LE(meta.height, m + 14);
  h.writeUInt8(meta.gain, m + 16);
  h.writeUInt8(meta.binning, m + 17);
  h.writeUInt8(16, m + 18);
  h.writeUInt32LE(meta.readoutUs >>> 0, m + 20);
  h.writeDoubleLE(meta.time, m + 24);
  return [h, Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength)];
}

/** Encodes a JSON control message (commands, replies, hello). */
export function encodeAdJson(obj: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(obj), "utf8");
  const h = Buffer.alloc(AD_PREAMBLE_BYTES);
  h.writeUInt32LE(AD_MAGIC, 0);
  h.writeUInt8(AD_VERSION, 4);
  h.writeUInt8(AdMessageType.json, 5);
  h.writeUInt32LE(body.length, 8);
  h.writeUInt32LE(0, 12);
  return Buffer.concat([h, body]);
}

function decodeMeta(b: Buffer): AdFrameMeta {
  return {
    frameNumber: b.readUInt32LE(0),
    triggerNumber: b.readUInt32LE(4),
    flags: b.readUInt32LE(8),
    width: b.readUInt16LE(12),
    height: b.readUInt16LE(14),
    gain: b.readUInt8(16),
    binning: b.readUInt8(17),
    readoutUs: b.readUInt32LE(20),
    time: b.readDoubleLE(24),
  };
}

/** What the parser hands out. */
export interface AdStreamHandlers {
  /** A frame; `pixels` is a fresh array owned by the receiver (never reused by the parser). */
  frame(meta: AdFrameMeta, pixels: Uint16Array): void;
  json(msg: unknown): void;
}

/**
 * Reassembles messages from TCP chunks of any size. A frame's pixels are copied once, straight into an aligned
 * array of the right size. A bad preamble, an unknown version or type, or a size beyond the limits throws
 * HUTCH_ERR_WIRE: the stream cannot be resynchronised, the caller drops the connection.
 * @example socket.on("data", (c) => parser.push(c));
 */
export class AdStreamParser {
  private head = Buffer.alloc(AD_PREAMBLE_BYTES + AD_FRAME_META_BYTES);
  private headHave = 0;
  private headNeed = AD_PREAMBLE_BYTES;
  private type = 0;
  private meta: AdFrameMeta | undefined;
  private body: Uint8Array | undefined;
  private bodyHave = 0;

  constructor(private readonly handlers: AdStreamHandlers) {}

  /** Feeds received bytes; calls the handlers for every complete message. */
  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.body) {
        const n = Math.min(chunk.length - i, this.body.length - this.bodyHave);
        this.body.set(chunk.subarray(i, i + n), this.bodyHave);
        this.bodyHave += n;
        i += n;
        if (this.bodyHave === this.body.length) this.finishBody();
        continue;
      }
      const n = Math.min(chunk.length - i, this.headNeed - this.headHave);
      this.head.set(chunk.subarray(i, i + n), this.headHave);
      this.headHave += n;
      i += n;
      if (this.headHave === this.headNeed) this.finishHead();
    }
  }

  private finishHead(): void {
    const h = this.head;
    if (this.headNeed === AD_PREAMBLE_BYTES) {
      const magic = h.readUInt32LE(0);
      if (magic !== AD_MAGIC) {
        throw new HutchError(ErrorCode.Wire, `area-detector link: bad magic 0x${magic.toString(16)}`);
      }
      if (h[4] !== AD_VERSION) throw new HutchError(ErrorCode.Wire, `area-detector link: version ${h[4]}`);
      this.type = h[5]!;
      const metaBytes = h.readUInt32LE(8);
      const payload = h.readUInt32LE(12);
      if (this.type === AdMessageType.frame) {
        if (metaBytes !== AD_FRAME_META_BYTES || payload > AD_MAX_PAYLOAD_BYTES || payload % 2) {
          throw new HutchError(
            ErrorCode.Wire,
            `area-detector link: frame header of ${metaBytes} bytes with ${payload} pixel bytes is not valid`,
          );
        }
        this.headNeed = AD_PREAMBLE_BYTES + AD_FRAME_META_BYTES;
        return;
      }
      if (this.type === AdMessageType.json) {
        if (metaBytes > MAX_JSON_BYTES || payload !== 0) {
          throw new HutchError(ErrorCode.Wire, `area-detector link: JSON message of ${metaBytes} bytes`);
        }
        this.startBody(metaBytes);
        return;
      }
      throw new HutchError(ErrorCode.Wire, `area-detector link: unknown message type ${this.type}`);
    }
    const meta = decodeMeta(h.subarray(AD_PREAMBLE_BYTES));
    const payload = h.readUInt32LE(12);
    if (meta.width * meta.height * 2 !== payload) {
      throw new HutchError(
        ErrorCode.Wire,
        `area-detector link: frame ${meta.frameNumber} says ${meta.width} x ${meta.height} but carries ${payload} bytes`,
      );
    }
    this.meta = meta;
    this.startBody(payload);
  }

  private startBody(bytes: number): void {
    this.body = new Uint8Array(bytes);
    this.bodyHave = 0;
    if (bytes === 0) this.finishBody();
  }

  private finishBody(): void {
    const body = this.body!;
    const type = this.type;
    const meta = this.meta;
    this.body = undefined;
    this.meta = undefined;
    this.headHave = 0;
    this.headNeed = AD_PREAMBLE_BYTES;
    if (type === AdMessageType.frame) {
      this.handlers.frame(meta!, new Uint16Array(body.buffer, 0, body.length / 2));
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(Buffer.from(body.buffer, 0, body.length).toString("utf8"));
    } catch (err) {
      throw new HutchError(ErrorCode.Wire, `area-detector link: JSON message does not parse`, { cause: err });
    }
    this.handlers.json(msg);
  }
}
