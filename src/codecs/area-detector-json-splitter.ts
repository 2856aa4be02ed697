// Splits a TCP byte stream into JSON objects: raw JSON sent with no framing (the MEC DAQ) and newline-delimited JSON.

/** One item found in the stream: a complete JSON object's text, or bytes that cannot start one. */
export type SplitItem =
  | {
      readonly kind: "message";
      readonly text: string;
      /**
       * true when a newline followed the object (newline-delimited JSON), false when something else did, undefined
       * when the object ended with the data received so far (a raw, unframed message).
       */
      readonly newline: boolean | undefined;
    }
  | { readonly kind: "error"; readonly reason: string };

/** Options of the splitter. */
export interface JsonSplitterOptions {
  /** An object longer than this is refused and the splitter resets (default 64 KiB). */
  readonly maxBytes?: number;
}

const LBRACE = 0x7b;
const RBRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NL = 0x0a;
const isSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0d || b === NL;

/**
 * Finds JSON objects in a byte stream whatever the TCP segmentation: one object split over several segments, several
 * objects in one segment, with or without newlines between them. It tracks braces outside strings (escapes
 * included), so it never needs the sender to frame its messages. Bytes that cannot start an object are reported
 * as one error up to the next newline or the end of the data received.
 * @example
 * const s = new JsonMessageSplitter();
 * for (const item of s.push(chunk)) if (item.kind === "message") handle(JSON.parse(item.text));
 */
export class JsonMessageSplitter {
  private readonly maxBytes: number;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private skipping = false;
  private garbage = 0;

  constructor(opts: JsonSplitterOptions = {}) {
    this.maxBytes = opts.maxBytes ?? 64 * 1024;
  }

  /** Bytes of an object begun but not complete yet (0 between messages). */
  get pending(): number {
    return this.partBytes;
  }

  /** Feeds received bytes; returns the complete objects and errors found, in order. */
  push(chunk: Uint8Array): SplitItem[] {
    const out: SplitItem[] = [];
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = this.depth > 0 ? 0 : -1; // where the current object's bytes begin in this chunk
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (this.depth === 0) {
        if (this.skipping) {
          if (c === NL) this.endGarbage(out);
          else this.garbage++;
          continue;
        }
        if (isSpace(c)) continue;
        if (c !== LBRACE) {
          this.skipping = true;
          this.garbage = 1;
          continue;
        }
        start = i;
        this.depth = 1;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === LBRACE) this.depth++;
      else if (c === RBRACE && --this.depth === 0) {
        const piece = b.subarray(start, i + 1);
        const text = this.take(piece);
        start = -1;
        if (text === undefined) {
          out.push({ kind: "error", reason: `message longer than ${this.maxBytes} bytes` });
          continue;
        }
        let j = i + 1;
        while (j < b.length && (b[j] === 0x20 || b[j] === 0x09 || b[j] === 0x0d)) j++;
        out.push({ kind: "message", text, newline: j < b.length ? b[j] === NL : undefined });
      }
    }
    if (this.depth > 0 && start >= 0) {
      this.keep(b.subarray(start));
      if (this.partBytes > this.maxBytes) {
        this.reset();
        out.push({ kind: "error", reason: `message longer than ${this.maxBytes} bytes` });
      }
    }
    if (this.skipping) this.endGarbage(out);
    return out;
  }

  /** Forgets any partial object (after an error or a timeout). */
  reset(): void {
    this.parts = [];
    this.partBytes = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.skipping = false;
    this.garbage = 0;
  }

  private endGarbage(out: SplitItem[]): void {
    if (this.garbage > 0) {
      out.push({
        kind: "error",
        reason: `not a JSON object: ${this.garbage} byte(s) that do not start with '{'`,
      });
    }
    this.skipping = false;
    this.garbage = 0;
  }

  private keep(piece: Buffer): void {
    this.parts.push(Buffer.from(piece)); // copied: the caller may reuse its chunk
    this.partBytes += piece.length;
  }

  /** The whole object ending with `last`, or undefined when it is too long. */
  private take(last: Buffer): string | undefined {
    const total = this.partBytes + last.length;
    const parts = this.parts;
    this.parts = [];
    this.partBytes = 0;
    if (total > this.maxBytes) return undefined;
    return parts.length ? Buffer.concat([...parts, last]).toString("utf8") : last.toString("utf8");
  }
}
