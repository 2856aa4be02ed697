// Framed JSON between the relay and its detector-side agent: 4-byte big-endian length, then UTF-8 JSON.
import { ErrorCode, HutchError } from "../core/index.js";

/** Messages larger than this are refused (the link carries control messages only). */
export const LINK_MAX_BYTES = 1024 * 1024;

/** Encodes one message. */
export function encodeLinkMessage(msg: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(msg), "utf8");
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/**
 * Reassembles framed messages from TCP chunks of any size (split or coalesced). A length beyond the limit or a body
 * that is not JSON throws HUTCH_ERR_WIRE: the caller drops the connection.
 * @example const f = new LinkFramer(); socket.on("data", (c) => { for (const m of f.push(c)) handle(m); });
 */
export class LinkFramer {
  private buf: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns the complete messages. */
  push(chunk: Buffer): unknown[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: unknown[] = [];
    while (this.buf.length >= 4) {
      const n = this.buf.readUInt32BE(0);
      if (n > LINK_MAX_BYTES) {
        throw new HutchError(ErrorCode.Wire, `relay link: message of ${n} bytes exceeds ${LINK_MAX_BYTES}`);
      }
      if (this.buf.length < 4 + n) break;
      const body = this.buf.subarray(4, 4 + n).toString("utf8");
      this.buf = this.buf.subarray(4 + n);
      try {
        out.push(JSON.parse(body));
      } catch (cause) {
        throw new HutchError(ErrorCode.Wire, "relay link: message is not JSON", { cause });
      }
    }
    return out;
  }
}
