// Turns a placeholder compound member into an HDF5 ARRAY member in a closed file (h5wasm 0.10 cannot create one).
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { ErrorCode, HutchError } from "../../core/index.js";
import type { CompoundMember } from "../h5-types.js";
import { lookup3 } from "../superblock.js";

/**
 * h5wasm 0.10 creates compound types from scalar and string members only (its `H5T_ARRAY` branch for writing is
 * commented out, and `H5Tarray_create2` is not exported from its wasm module). So an array member such as the
 * CHEC-S `data f4[32,64]` column is created as two fixed-string placeholder members of the same total size, and
 * once the file is closed {@link patchArrayMember} rewrites the dataset's datatype message in place: the pair
 * becomes one `ARRAY(float32, shape)` member, a NIL message takes up the bytes saved, and the object header's
 * lookup3 checksum is recomputed. HDF5 (and the writer, reopening the file) then reads the real array type; raw
 * row bytes are the same under both types, so rows written before or after the patch keep their values.
 */
export interface ArrayMemberPlaceholder {
  /** The member name in the finished file (e.g. `data`). */
  readonly name: string;
  /** Shape of the array member (e.g. [32, 64]). */
  readonly shape: readonly number[];
}

/** Name of the second placeholder member (removed by the patch). */
export const ARRAY_PLACEHOLDER_TAIL = "__hutch_array_member_placeholder_tail__";

/** Bytes of the float32 array (both placeholder halves together). */
function arrayBytes(p: ArrayMemberPlaceholder): number {
  return p.shape.reduce((a, b) => a * b, 1) * 4;
}

/** The two compound members standing for a float32 array member until {@link patchArrayMember} runs. */
export function arrayPlaceholderMembers(p: ArrayMemberPlaceholder): CompoundMember[] {
  const bytes = arrayBytes(p);
  const head = Math.ceil(bytes / 2);
  return [
    { name: p.name, type: { fixedString: head } },
    { name: ARRAY_PLACEHOLDER_TAIL, type: { fixedString: bytes - head } },
  ];
}

const le = (n: number, bytes: number): number[] =>
  Array.from({ length: bytes }, (_, i) => Math.floor(n / 2 ** (8 * i)) & 0xff);

/** Bytes needed to encode a member offset in a version-3 compound of `size` bytes (HDF5's H5VM_limit_enc_size). */
function offsetBytes(size: number): number {
  return Math.max(1, Math.ceil(Math.log2(size + 1) / 8));
}

/** A version-1 fixed-length, NULLTERM, ASCII string datatype of `size` bytes (as h5wasm writes 'A<n>'). */
const stringType = (size: number): number[] => [0x13, 0, 0, 0, ...le(size, 4)];

/** Version-3 ARRAY of little-endian IEEE float32 with `shape`. */
function float32ArrayType(shape: readonly number[]): number[] {
  const f32 = [0x11, 0x20, 0x1f, 0x00, ...le(4, 4), 0, 0, 32, 0, 23, 8, 0, 23, ...le(127, 4)];
  const size = shape.reduce((a, b) => a * b, 1) * 4;
  return [0x3a, 0, 0, 0, ...le(size, 4), shape.length, ...shape.flatMap((d) => le(d, 4)), ...f32];
}

const cstr = (s: string): number[] => [...Buffer.from(s, "utf8"), 0];

/** Index of `needle` in `hay` from `from`, or -1. */
function find(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).indexOf(needle, from);
}

/**
 * Rewrites the placeholder pair of `p` (at byte offset `memberOffset` of a compound of `compoundBytes` bytes) into
 * a float32 ARRAY member, in the first `scanBytes` of the closed HDF5 file `path` (object headers of datasets
 * created before any data sit near the start). Returns the number of datatype messages patched (0 = none found,
 * e.g. already patched). Throws HUTCH_ERR_IO when the file cannot be read or written.
 */
export function patchArrayMember(
  path: string,
  p: ArrayMemberPlaceholder,
  memberOffset: number,
  compoundBytes: number,
  scanBytes = 4 << 20,
): number {
  const [headMember, tailMember] = arrayPlaceholderMembers(p) as [CompoundMember, CompoundMember];
  const ob = offsetBytes(compoundBytes);
  const headSize = (headMember.type as { fixedString: number }).fixedString;
  const tailSize = (tailMember.type as { fixedString: number }).fixedString;
  const placeholder = Uint8Array.from([
    ...cstr(p.name),
    ...le(memberOffset, ob),
    ...stringType(headSize),
    ...cstr(ARRAY_PLACEHOLDER_TAIL),
    ...le(memberOffset + headSize, ob),
    ...stringType(tailSize),
  ]);
  const replacement = Uint8Array.from([
    ...cstr(p.name),
    ...le(memberOffset, ob),
    ...float32ArrayType(p.shape),
  ]);
  const saved = placeholder.length - replacement.length;
  if (saved < 4) throw new HutchError(ErrorCode.Internal, "array member placeholder is too short to patch");

  let fd: number;
  try {
    fd = openSync(path, "r+");
  } catch (err) {
    throw new HutchError(ErrorCode.Io, `cannot open ${path} to write its array member type: ${String(err)}`);
  }
  try {
    const n = Math.min(scanBytes, fstatSync(fd).size);
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, 0);
    let patched = 0;
    for (let at = buf.indexOf("OHDR"); at >= 0; at = buf.indexOf("OHDR", at + 4)) {
      const chunk = patchObjectHeader(buf, at, placeholder, replacement, saved);
      if (chunk) {
        writeSync(fd, buf, chunk.start, chunk.end - chunk.start, chunk.start);
        patched++;
      }
    }
    return patched;
  } finally {
    closeSync(fd);
  }
}

/** Patches one version-2 object header's chunk 0 in `buf` when its datatype message holds the placeholder. */
function patchObjectHeader(
  buf: Buffer,
  at: number,
  placeholder: Uint8Array,
  replacement: Uint8Array,
  saved: number,
): { start: number; end: number } | undefined {
  if (buf[at + 4] !== 2) return undefined;
  const flags = buf[at + 5]!;
  let p = at + 6;
  if (flags & 0x20) p += 16; // access/modification/change/birth times
  if (flags & 0x10) p += 4; // attribute phase change values
  const sizeBytes = 1 << (flags & 3);
  if (p + sizeBytes > buf.length) return undefined;
  const chunkSize = buf.readUIntLE(p, sizeBytes);
  p += sizeBytes;
  const msgStart = p;
  const msgEnd = msgStart + chunkSize;
  if (msgEnd + 4 > buf.length) return undefined;
  const headerBytes = flags & 0x04 ? 6 : 4;
  for (let m = msgStart; m + headerBytes <= msgEnd;) {
    const type = buf[m]!;
    const size = buf.readUInt16LE(m + 1);
    const body = m + headerBytes;
    if (type === 3) {
      const i = find(buf.subarray(body, body + size), placeholder);
      if (i < 0) return undefined;
      const nmembers = buf.readUInt16LE(body + 1);
      const before = Buffer.from(buf.subarray(body, body + i));
      const after = Buffer.from(buf.subarray(body + i + placeholder.length, body + size));
      before.writeUInt16LE(nmembers - 1, 1);
      const newBody = Buffer.concat([before, replacement, after]);
      buf.writeUInt16LE(newBody.length, m + 1);
      newBody.copy(buf, body);
      // A NIL message (type 0) fills the bytes saved; its header is `headerBytes` long.
      const nil = body + newBody.length;
      buf.fill(0, nil, nil + saved);
      buf.writeUInt16LE(saved - headerBytes, nil + 1);
      buf.writeUInt32LE(lookup3(buf.subarray(at, msgEnd)), msgEnd);
      return { start: at, end: msgEnd + 4 };
    }
    m = body + size;
  }
  return undefined;
}
