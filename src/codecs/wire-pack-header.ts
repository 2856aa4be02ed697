// MessagePack writer for wire headers: one walk of the document, cached strings, placeholders (docs/wire.md).
// Written here rather than with @msgpack/msgpack because the header is the per-message cost of the bus: no
// intermediate trees, cached strings, arrays collected as placeholders in the same pass.
import { ErrorCode, HutchError, bytesOf, isDType, type NdArray } from "../core/index.js";
import { bodyFrameOf, bodyStartOf, layOutBodyFrames } from "./wire-body-frames.js";
import { HEADER_MAX_DEPTH, ND_KEY, WIRE_VERSION } from "./wire-version.js";

function isNd(v: object): v is NdArray {
  return ArrayBuffer.isView((v as NdArray).data) && isDType((v as NdArray).dtype);
}

let out = Buffer.allocUnsafeSlow(16384);
let pos = 0;
/** Encoded bytes (with their MessagePack header) of short strings: keys, kinds, uids, names repeat. */
const strCache = new Map<string, Uint8Array>();
const STR_CACHE_MAX = 4096;
/** Longer strings (messages, configuration text) are written directly; uids (36 bytes) and names are cached. */
const STR_CACHE_BYTES = 40;

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
  if (depth > HEADER_MAX_DEPTH)
    throw new HutchError(ErrorCode.Wire, `document nested deeper than ${HEADER_MAX_DEPTH}`);
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
  layOutBodyFrames(arrays, frames);
  wStr("arrays");
  wContainer(arrays.length, 0x90, 0xdc);
  for (let i = 0; i < arrays.length; i++) {
    const a = arrays[i]!;
    ensure(1);
    out[pos++] = 0x84;
    wStr("dtype");
    wStr(a.dtype);
    wStr("shape");
    wVal(a.shape, 0);
    wStr("frame");
    wNum(bodyFrameOf(i));
    wStr("offset");
    wNum(a.data.byteOffset - bodyStartOf(i));
  }
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
