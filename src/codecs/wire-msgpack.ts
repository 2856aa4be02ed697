// MessagePack for wire headers: a writer that walks a document once and a strict, bounded reader (docs/wire.md).
// Written here rather than with @msgpack/msgpack because the header is the per-message cost of the bus: no
// intermediate trees, cached strings, placeholders and exact integers resolved in the same pass.
import { ErrorCode, HutchError, bytesOf, isDType, type NdArray } from "../core/index.js";

/**
 * Version of the frame layout written: 2 = arrays at `{frame, offset}` of body frames (several arrays of one
 * buffer share a frame). Version 1 (one frame per array, frame `2 + i`) is still read. New optional header keys
 * keep the version.
 */
export const WIRE_VERSION = 2;

/** Placeholder for an array inside the header's `doc`: `{"$nd": i}` refers to `arrays[i]`. */
export const ND_KEY = "$nd";

const MAX_EXACT = 2n ** 53n;
const MIN_EXACT = -(2n ** 53n);

function isNd(v: object): v is NdArray {
  return ArrayBuffer.isView((v as NdArray).data) && isDType((v as NdArray).dtype);
}

/** A HUTCH_ERR_WIRE error with its rejection reason in `details.reason`. */
export function wireError(reason: string, message: string, cause?: unknown): HutchError {
  return new HutchError(ErrorCode.Wire, message, { cause, details: { reason } });
}

// ---- MessagePack writer: the header, written in one walk of the document -----------------------------------

let out = Buffer.allocUnsafeSlow(16384);
let pos = 0;
/** Encoded bytes (with their MessagePack header) of short strings: keys, kinds, uids, names repeat. */
const strCache = new Map<string, Uint8Array>();
const STR_CACHE_MAX = 4096;
/** Longer strings (messages, configuration text) are written directly; uids (36 bytes) and names are cached. */
const STR_CACHE_BYTES = 40;
const MAX_DEPTH = 100;

function ensure(n: number): void {
  if (pos + n <= out.length) return;
  const b = Buffer.allocUnsafeSlow(Math.max(out.length * 2, pos + n));
  out.copy(b, 0, 0, pos);
  out = b;
}

function writeStrHeader(b: Buffer, at: number, len: number): number {
  if (len < 32) {
    b[at] = 0xa0 | len;
    return 1;
  }
  if (len < 256) {
    b[at] = 0xd9;
    b[at + 1] = len;
    return 2;
  }
  if (len < 65536) {
    b[at] = 0xda;
    b.writeUInt16BE(len, at + 1);
    return 3;
  }
  b[at] = 0xdb;
  b.writeUInt32BE(len, at + 1);
  return 5;
}

function wStr(s: string): void {
  let c = strCache.get(s);
  if (c === undefined) {
    const len = Buffer.byteLength(s);
    if (len > STR_CACHE_BYTES) {
      ensure(len + 5);
      pos += writeStrHeader(out, pos, len);
      pos += out.write(s, pos, "utf8");
      return;
    }
    const b = Buffer.allocUnsafe(len + (len < 32 ? 1 : 2));
    b.write(s, writeStrHeader(b, 0, len), "utf8");
    if (strCache.size >= STR_CACHE_MAX) strCache.clear();
    strCache.set(s, (c = b));
  }
  const n = c.length;
  ensure(n);
  for (let i = 0; i < n; i++) out[pos + i] = c[i]!;
  pos += n;
}

/** Safe integers as the smallest MessagePack int, other numbers as float64 (as @msgpack/msgpack does). */
function wNum(v: number): void {
  ensure(9);
  if (!Number.isSafeInteger(v)) {
    out[pos] = 0xcb;
    out.writeDoubleBE(v, pos + 1);
    pos += 9;
  } else if (v >= 0) {
    if (v < 128) out[pos++] = v;
    else if (v < 256) {
      out[pos++] = 0xcc;
      out[pos++] = v;
    } else if (v < 65536) {
      out[pos] = 0xcd;
      pos = out.writeUInt16BE(v, pos + 1);
    } else if (v < 4294967296) {
      out[pos] = 0xce;
      pos = out.writeUInt32BE(v, pos + 1);
    } else {
      out[pos] = 0xcf;
      out.writeUInt32BE(Math.floor(v / 4294967296), pos + 1);
      pos = out.writeUInt32BE(v >>> 0, pos + 5);
    }
  } else if (v >= -32) out[pos++] = v & 0xff;
  else if (v >= -128) {
    out[pos] = 0xd0;
    pos = out.writeInt8(v, pos + 1);
  } else if (v >= -32768) {
    out[pos] = 0xd1;
    pos = out.writeInt16BE(v, pos + 1);
  } else if (v >= -2147483648) {
    out[pos] = 0xd2;
    pos = out.writeInt32BE(v, pos + 1);
  } else {
    out[pos] = 0xd3;
    pos = out.writeBigInt64BE(BigInt(v), pos + 1);
  }
}

function wBig(v: bigint): void {
  ensure(9);
  if (v >= 0n && v < 2n ** 64n) {
    out[pos] = 0xcf;
    pos = out.writeBigUInt64BE(v, pos + 1);
  } else if (v < 0n && v >= -(2n ** 63n)) {
    out[pos] = 0xd3;
    pos = out.writeBigInt64BE(v, pos + 1);
  } else {
    throw new HutchError(ErrorCode.Wire, `bigint ${v} does not fit in 64 bits`);
  }
}

function wContainer(n: number, fix: number, b16: number): void {
  ensure(5);
  if (n < 16) out[pos++] = fix | n;
  else if (n < 65536) {
    out[pos] = b16;
    pos = out.writeUInt16BE(n, pos + 1);
  } else {
    out[pos] = b16 + 1;
    pos = out.writeUInt32BE(n, pos + 1);
  }
}

/** The arrays met in the current walk, in placeholder order. */
let nds: NdArray[] = [];

/** Writes any document value; arrays become `{"$nd": i}` and are collected into `nds`. */
function wVal(v: unknown, depth: number): void {
  switch (typeof v) {
    case "string":
      return wStr(v);
    case "number":
      return wNum(v);
    case "bigint":
      return wBig(v);
    case "boolean":
    case "undefined":
      ensure(1);
      out[pos++] = v === undefined ? 0xc0 : v ? 0xc3 : 0xc2;
      return;
    case "object":
      break;
    default:
      throw new HutchError(ErrorCode.Wire, `cannot encode a ${typeof v} in a document`);
  }
  if (v === null) {
    ensure(1);
    out[pos++] = 0xc0;
    return;
  }
  if (depth > MAX_DEPTH) throw new HutchError(ErrorCode.Wire, `document nested deeper than ${MAX_DEPTH}`);
  if (Array.isArray(v)) {
    wContainer(v.length, 0x90, 0xdc);
    for (const x of v) wVal(x, depth + 1);
  } else if (isNd(v)) {
    nds.push(v);
    ensure(1);
    out[pos++] = 0x81;
    wStr(ND_KEY);
    wNum(nds.length - 1);
  } else if (ArrayBuffer.isView(v)) {
    const b = bytesOf(v as Uint8Array);
    const n = b.byteLength;
    ensure(n + 5);
    if (n < 256) {
      out[pos++] = 0xc4;
      out[pos++] = n;
    } else if (n < 65536) {
      out[pos] = 0xc5;
      pos = out.writeUInt16BE(n, pos + 1);
    } else {
      out[pos] = 0xc6;
      pos = out.writeUInt32BE(n, pos + 1);
    }
    out.set(b, pos);
    pos += b.byteLength;
  } else {
    const o = v as Record<string, unknown>;
    let n = 0;
    for (const k in o) if (o[k] !== undefined) n++;
    wContainer(n, 0x80, 0xde);
    for (const k in o) {
      const x = o[k];
      if (x === undefined) continue;
      wStr(k);
      wVal(x, depth + 1);
    }
  }
}

// ---- Body frames: arrays that lie together in one buffer travel as one frame ----------------------------------

/**
 * Bytes of other data a body frame may span between two arrays of one buffer: alignment padding, nothing more
 * (a frame never carries a sizeable piece of unrelated memory).
 */
const GAP_MAX_BYTES = 64;

// The layout of the current message, in reused tables (no objects per message): arrays sorted by position, the
// body of each array, and per body its buffer, byte range, lowest array index and frame number.
let byPos = new Int32Array(16);
let bodyOf = new Int32Array(16);
let bStart = new Float64Array(16);
let bEnd = new Float64Array(16);
let bFirst = new Int32Array(16);
let bFrame = new Int32Array(16);
const bBuffer: ArrayBufferLike[] = [];
const NO_BUFFER = new ArrayBuffer(0);

function grow(n: number): void {
  if (byPos.length >= n) return;
  const m = 2 * n;
  [byPos, bodyOf, bFirst, bFrame] = [
    new Int32Array(m),
    new Int32Array(m),
    new Int32Array(m),
    new Int32Array(m),
  ];
  [bStart, bEnd] = [new Float64Array(m), new Float64Array(m)];
}

/**
 * Lays the arrays out in body frames, never copying: arrays of one buffer within GAP_MAX_BYTES of each other
 * share a frame that starts 8-byte aligned in that buffer (so every array keeps its alignment), any other array
 * is a frame of its own. Frames are numbered in the order of the first array they hold. Appends the frames and
 * returns how many there are; `bodyOf`, `bStart`, `bFrame` then say where each array is.
 */
function layOut(arrays: readonly NdArray[], frames: Buffer[]): number {
  const n = arrays.length;
  grow(n);
  for (let i = 0; i < n; i++) {
    const at = arrays[i]!.data.byteOffset; // insertion sort: a handful of arrays
    let j = i;
    for (; j > 0 && arrays[byPos[j - 1]!]!.data.byteOffset > at; j--) byPos[j] = byPos[j - 1]!;
    byPos[j] = i;
  }
  let bodies = 0;
  for (let r = 0; r < n; r++) {
    const i = byPos[r]!;
    const d = arrays[i]!.data;
    const start = d.byteOffset;
    const end = start + d.byteLength;
    let k = -1;
    for (let x = 0; x < bodies; x++) if (bBuffer[x] === d.buffer && start <= bEnd[x]! + GAP_MAX_BYTES) k = x;
    if (k < 0) {
      k = bodies++;
      bBuffer[k] = d.buffer;
      bStart[k] = start - (start % 8);
      bEnd[k] = end;
      bFirst[k] = i;
    } else {
      if (end > bEnd[k]!) bEnd[k] = end;
      if (i < bFirst[k]!) bFirst[k] = i;
    }
    bodyOf[i] = k;
  }
  for (let k = 0; k < bodies; k++) {
    let f = 0;
    for (let x = 0; x < bodies; x++) if (bFirst[x]! < bFirst[k]!) f++;
    bFrame[k] = f;
  }
  for (let f = 0; f < bodies; f++) {
    for (let k = 0; k < bodies; k++) {
      if (bFrame[k] !== f) continue;
      frames.push(Buffer.from(bBuffer[k] as ArrayBuffer, bStart[k], bEnd[k]! - bStart[k]!));
    }
  }
  return bodies;
}

/**
 * Writes a wire header `{v, kind, doc, arrays[, origin]}` in one walk of `doc`: every NdArray becomes
 * `{"$nd": i}` and `arrays[i]` = `{dtype, shape, frame, offset}`; the body frames holding the arrays' bytes are
 * appended to `frames` (views, never copies). Returns a fresh slice of a header slab (ZeroMQ may still hold it,
 * zero-copy, when the next header is written). The bytes are those of `@msgpack/msgpack` with `ignoreUndefined`: safe integers
 * in the smallest int type of any width, other numbers as float64; bigints as int64/uint64.
 */
export function packHeader(kind: string, doc: unknown, origin: string | undefined, frames: Buffer[]): Buffer {
  nds = [];
  pos = 0;
  ensure(1);
  out[pos++] = origin === undefined ? 0x84 : 0x85;
  wStr("v");
  wNum(WIRE_VERSION);
  wStr("kind");
  wStr(kind);
  wStr("doc");
  wVal(doc, 0);
  const arrays = nds;
  nds = [];
  const bodies = layOut(arrays, frames);
  wStr("arrays");
  wContainer(arrays.length, 0x90, 0xdc);
  for (let i = 0; i < arrays.length; i++) {
    const a = arrays[i]!;
    const k = bodyOf[i]!;
    ensure(1);
    out[pos++] = 0x84;
    wStr("dtype");
    wStr(a.dtype);
    wStr("shape");
    wVal(a.shape, 0);
    wStr("frame");
    wNum(bFrame[k]!);
    wStr("offset");
    wNum(a.data.byteOffset - bStart[k]!);
  }
  for (let k = 0; k < bodies; k++) bBuffer[k] = NO_BUFFER; // do not keep the buffers alive
  if (origin !== undefined) {
    wStr("origin");
    wStr(origin);
  }
  if (pos > HEADER_SLAB_BYTES / 16) {
    const own = Buffer.allocUnsafeSlow(pos);
    out.copy(own, 0, 0, pos);
    return own;
  }
  if (slabUsed + pos > HEADER_SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(HEADER_SLAB_BYTES);
    slabUsed = 0;
  }
  out.copy(slab, slabUsed, 0, pos);
  const header = slab.subarray(slabUsed, slabUsed + pos);
  slabUsed += (pos + 7) & ~7;
  return header;
}

/**
 * Headers are carved from 256 KiB slabs, never reused (ZeroMQ may hold a header until it is sent): Node's 8 KiB
 * Buffer pool would make a new ArrayBuffer every ~30 headers, which costs more than writing them.
 */
const HEADER_SLAB_BYTES = 1 << 18;
let slab = Buffer.allocUnsafeSlow(HEADER_SLAB_BYTES);
let slabUsed = 0;

// ---- MessagePack reader: the header, with placeholders and exact integers resolved in the same pass -------

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
  if (depth > MAX_DEPTH) throw bad(`header nested deeper than ${MAX_DEPTH}`);
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
  if (depth > MAX_DEPTH) throw bad(`header nested deeper than ${MAX_DEPTH}`);
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
