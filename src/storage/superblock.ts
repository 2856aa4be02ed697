// Reads and clears the "open for write / SWMR" flags of an HDF5 superblock (what `h5clear -s` does), in plain Node.
import { closeSync, openSync, readSync, writeSync, fstatSync } from "node:fs";
import { ErrorCode, HutchError } from "../core/index.js";

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

const rot = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** Bob Jenkins' lookup3 `hashlittle`, the checksum of HDF5 metadata (H5_checksum_lookup3). */
export function lookup3(k: Uint8Array, initval = 0): number {
  let length = k.length;
  let a = (0xdeadbeef + length + initval) >>> 0;
  let b = a;
  let c = a;
  let o = 0;
  const u32 = (buf: Uint8Array, i: number) =>
    (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)) >>> 0;
  while (length > 12) {
    a = (a + u32(k, o)) >>> 0;
    b = (b + u32(k, o + 4)) >>> 0;
    c = (c + u32(k, o + 8)) >>> 0;
    a = ((a - c) >>> 0) ^ rot(c, 4);
    c = (c + b) >>> 0;
    b = ((b - a) >>> 0) ^ rot(a, 6);
    a = (a + c) >>> 0;
    c = ((c - b) >>> 0) ^ rot(b, 8);
    b = (b + a) >>> 0;
    a = ((a - c) >>> 0) ^ rot(c, 16);
    c = (c + b) >>> 0;
    b = ((b - a) >>> 0) ^ rot(a, 19);
    a = (a + c) >>> 0;
    c = ((c - b) >>> 0) ^ rot(b, 4);
    b = (b + a) >>> 0;
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    length -= 12;
    o += 12;
  }
  if (length === 0) return c;
  const t = new Uint8Array(12);
  t.set(k.subarray(o, o + length));
  a = (a + u32(t, 0)) >>> 0;
  b = (b + u32(t, 4)) >>> 0;
  c = (c + u32(t, 8)) >>> 0;
  c = ((c ^ b) - rot(b, 14)) >>> 0;
  a = ((a ^ c) - rot(c, 11)) >>> 0;
  b = ((b ^ a) - rot(a, 25)) >>> 0;
  c = ((c ^ b) - rot(b, 16)) >>> 0;
  a = ((a ^ c) - rot(c, 4)) >>> 0;
  b = ((b ^ a) - rot(a, 14)) >>> 0;
  c = ((c ^ b) - rot(b, 24)) >>> 0;
  return c >>> 0;
}

/** What the superblock says about a file. */
export interface SuperblockInfo {
  /** Byte offset of the superblock (0, or after a user block). */
  readonly offset: number;
  readonly version: number;
  /** Consistency flags: bit 0 = open for write, bit 2 = open for SWMR write (versions 2 and 3). */
  readonly flags: number;
  /** Length of the checksummed part (the checksum follows it). */
  readonly length: number;
}

function locate(fd: number): { info: SuperblockInfo; bytes: Buffer } {
  const size = fstatSync(fd).size;
  for (let off = 0; off < size; off = off === 0 ? 512 : off * 2) {
    const bytes = Buffer.alloc(64);
    readSync(fd, bytes, 0, 64, off);
    if (!bytes.subarray(0, 8).equals(SIGNATURE)) continue;
    const version = bytes[8]!;
    if (version < 2) return { info: { offset: off, version, flags: 0, length: 0 }, bytes };
    const sizeOfOffsets = bytes[9]!;
    const length = 12 + 4 * sizeOfOffsets;
    return { info: { offset: off, version, flags: bytes[11]!, length }, bytes };
  }
  throw new HutchError(ErrorCode.Validation, "not an HDF5 file: no superblock signature found");
}

/** Reads the superblock of an HDF5 file. */
export function readSuperblock(path: string): SuperblockInfo {
  const fd = openSync(path, "r");
  try {
    return locate(fd).info;
  } finally {
    closeSync(fd);
  }
}

/**
 * Clears the open-for-write flags a crashed writer left (like `h5clear -s`), fixing the checksum, so that any
 * HDF5 reader opens the file. Writes 1 byte + 4 checksum bytes in place (works on a full disk).
 * Returns the flags found (0 = nothing to do).
 */
export function clearOpenFlags(path: string): number {
  const fd = openSync(path, "r+");
  try {
    const { info, bytes } = locate(fd);
    if (info.version < 2 || info.flags === 0) return info.flags;
    bytes[11] = 0;
    bytes.writeUInt32LE(lookup3(bytes.subarray(0, info.length)), info.length);
    writeSync(fd, bytes, 0, info.length + 4, info.offset);
    return info.flags;
  } finally {
    closeSync(fd);
  }
}
