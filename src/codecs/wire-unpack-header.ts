// MessagePack reader for wire headers: strict and bounded, placeholders and exact integers resolved in one pass.
import type { HutchError } from "../core/index.js";
import { HEADER_MAX_DEPTH, ND_KEY, wireError } from "./wire-version.js";

const MAX_EXACT = 2n ** 53n;
const MIN_EXACT = -(2n ** 53n);

/** A `{"$nd": i}` placeholder met while reading, replaced by the array once the specs are known. */
export class NdRef {
  constructor(readonly i: number) {}
}

let rb: Buffer = Buffer.allocUnsafe(0);
let rp = 0;
/** Where each placeholder sits: its container, its key or index, the reference. */
export type HeaderRefs = [Record<string, unknown> | unknown[], string | number, NdRef][];
let fixes: HeaderRefs = [];
/** Short ASCII map keys by a slot of their bytes: the same few keys come in every header. */
const keyCache: (string | undefined)[] = new Array<string | undefined>(1 << 17).fill(undefined);

function bad(message: string): HutchError {
  return wireError("header", message);
}

function need(n: number): void {
  if (rp + n > rb.length) throw bad(`header is truncated at byte ${rp}`);
}

/** ASCII strings of up to TEXT_CACHE_BYTES bytes by a slot of their bytes: uids, names and topics repeat. */
const textCache: (string | undefined)[] = new Array<string | undefined>(4096).fill(undefined);
const TEXT_CACHE_BYTES = 64;

/**
 * The UTF-8 text of `len` bytes of `b` at `start`. Short ASCII strings come from a cache, confirmed byte by
 * byte (a cached string holds only characters below 0x80, so it can only match the bytes it was read from).
 */
export function readText(b: Buffer, start: number, len: number): string {
  if (len === 0 || len > TEXT_CACHE_BYTES) return b.toString("utf8", start, start + len);
  const slot = ((len << 7) ^ (b[start]! << 4) ^ (b[start + (len >> 1)]! << 2) ^ b[start + len - 1]!) & 4095;
  const s = textCache[slot];
  if (s !== undefined && s.length === len) {
    let i = 0;
    while (i < len && s.charCodeAt(i) === b[start + i]) i++;
    if (i === len) return s;
  }
  const t = b.toString("utf8", start, start + len);
  if (t.length === len) textCache[slot] = t; // one char per byte: ASCII (or U+FFFD, which matches no byte)
  return t;
}

function rStr(len: number): string {
  need(len);
  const start = rp;
  rp += len;
  return readText(rb, start, len);
}

function rKey(): string {
  need(1);
  const b = rb[rp++]!;
  if (b < 0xa0 || (b > 0xbf && b !== 0xd9 && b !== 0xda && b !== 0xdb)) {
    throw bad(`a map key is not a string (type 0x${b.toString(16)})`);
  }
  let len = b & 0x1f;
  if (b === 0xd9) {
    need(1);
    len = rb[rp++]!;
  } else if (b === 0xda) {
    need(2);
    len = rb.readUInt16BE(rp);
    rp += 2;
  } else if (b === 0xdb) {
    need(4);
    len = rb.readUInt32BE(rp);
    rp += 4;
  }
  need(len);
  if (len > 16 || len === 0) return rStr(len);
  // Slot by length, first and last byte; the cached key is confirmed byte by byte.
  const slot = (len << 12) ^ (rb[rp]! << 6) ^ rb[rp + len - 1]!;
  const k = keyCache[slot];
  if (k !== undefined && k.length === len) {
    let same = true;
    for (let i = 0; i < len && same; i++) same = k.charCodeAt(i) === rb[rp + i];
    if (same) {
      rp += len;
      return k;
    }
  }
  const s = rStr(len);
  if (s.length === len) keyCache[slot] = s; // ASCII only: one char per byte
  return s;
}

function rArr(n: number, depth: number): unknown[] {
  if (n > rb.length - rp) throw bad(`header array of ${n} items is longer than the header`);
  if (depth > HEADER_MAX_DEPTH) throw bad(`header nested deeper than ${HEADER_MAX_DEPTH}`);
  const a = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const v = rVal(depth + 1);
    if (v instanceof NdRef) fixes.push([a, i, v]);
    a[i] = v;
  }
  return a;
}

function rMap(n: number, depth: number): Record<string, unknown> | NdRef {
  if (2 * n > rb.length - rp) throw bad(`header map of ${n} entries is longer than the header`);
  if (depth > HEADER_MAX_DEPTH) throw bad(`header nested deeper than ${HEADER_MAX_DEPTH}`);
  const o: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const k = rKey();
    const v = rVal(depth + 1);
    if (v instanceof NdRef) fixes.push([o, k, v]);
    if (k === "__proto__") Object.defineProperty(o, k, { value: v, enumerable: true, writable: true });
    else o[k] = v;
  }
  if (n === 1 && ND_KEY in o) {
    const i = o[ND_KEY];
    if (!Number.isInteger(i) || (i as number) < 0)
      throw wireError("arrays", `bad array reference ${String(i)}`);
    return new NdRef(i as number);
  }
  return o;
}

/** Bytes that follow a type byte 0xc0..0xdf before its payload (0 for nil/bool and unsupported types). */
const SIZES = Uint8Array.from([
  0, 0, 0, 0, 1, 2, 4, 0, 0, 0, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 0, 0, 0, 0, 0, 1, 2, 4, 2, 4, 2, 4,
]);
const EMPTY = Buffer.alloc(0);

const exact = (v: bigint): number | bigint => (v >= MIN_EXACT && v <= MAX_EXACT ? Number(v) : v);

function rVal(depth: number): unknown {
  need(1);
  const b = rb[rp++]!;
  if (b < 0x80) return b;
  if (b >= 0xe0) return b - 0x100;
  if (b < 0x90) return rMap(b & 0x0f, depth);
  if (b < 0xa0) return rArr(b & 0x0f, depth);
  if (b < 0xc0) return rStr(b & 0x1f);
  const size = SIZES[b - 0xc0]!;
  need(size);
  const at = rp;
  rp += size;
  switch (b) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
    case 0xc5:
    case 0xc6: {
      const len = size === 1 ? rb[at]! : size === 2 ? rb.readUInt16BE(at) : rb.readUInt32BE(at);
      need(len);
      return rb.subarray(rp, (rp += len));
    }
    case 0xca:
      return rb.readFloatBE(at);
    case 0xcb:
      return rb.readDoubleBE(at);
    case 0xcc:
      return rb[at];
    case 0xcd:
      return rb.readUInt16BE(at);
    case 0xce:
      return rb.readUInt32BE(at);
    case 0xcf:
      return exact(rb.readBigUInt64BE(at));
    case 0xd0:
      return rb.readInt8(at);
    case 0xd1:
      return rb.readInt16BE(at);
    case 0xd2:
      return rb.readInt32BE(at);
    case 0xd3:
      return exact(rb.readBigInt64BE(at));
    case 0xd9:
      return rStr(rb[at]!);
    case 0xda:
      return rStr(rb.readUInt16BE(at));
    case 0xdb:
      return rStr(rb.readUInt32BE(at));
    case 0xdc:
      return rArr(rb.readUInt16BE(at), depth);
    case 0xdd:
      return rArr(rb.readUInt32BE(at), depth);
    case 0xde:
      return rMap(rb.readUInt16BE(at), depth);
    case 0xdf:
      return rMap(rb.readUInt32BE(at), depth);
    default:
      throw bad(`unsupported MessagePack type 0x${b.toString(16)} in the header`);
  }
}

/**
 * Reads a whole header (any MessagePack value without extension types); returns it with the placeholders to
 * resolve. Integers within ±2^53 come back as numbers, larger ones as bigints, `bin` as a view of the frame.
 * Throws HUTCH_ERR_WIRE with reason `header` (or `arrays` for a malformed placeholder); never reads past the
 * frame, never nests deeper than 100, never allocates more items than the frame has bytes.
 */
export function unpackHeader(frame: Uint8Array): { header: unknown; refs: HeaderRefs } {
  rb = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  rp = 0;
  fixes = [];
  try {
    const header = rVal(0);
    if (rp !== rb.length) throw bad(`${rb.length - rp} bytes after the header`);
    return { header, refs: fixes };
  } finally {
    rb = EMPTY; // do not keep the frame alive
    fixes = [];
  }
}
