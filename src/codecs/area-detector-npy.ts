// NumPy .npy (format 1.0) for float32 images: how kept backgrounds are stored, readable with numpy.load.
import { ErrorCode, HutchError } from "../core/index.js";

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** A float32 array with its shape. */
export interface NpyFloat32 {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * The .npy 1.0 header for a float32 array (little-endian, C order), padded to 64 bytes; the raw data follows it.
 * @example await writeFile(path, [npyFloat32Header(shape), new Uint8Array(data.buffer)]);
 */
export function npyFloat32Header(shape: readonly number[]): Buffer {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${dims}, }`;
  const unpadded = MAGIC.length + 4 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const out = Buffer.alloc(MAGIC.length + 4 + header.length);
  MAGIC.copy(out, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, "latin1");
  return out;
}

/**
 * Encodes a float32 array as .npy 1.0 (little-endian, C order); `numpy.load(path)` reads it.
 * @example writeFileSync("background.npy", encodeNpyFloat32({ shape: [h, w], data }));
 */
export function encodeNpyFloat32(a: NpyFloat32): Buffer {
  const n = a.shape.reduce((x, y) => x * y, 1);
  if (n !== a.data.length) {
    throw new HutchError(ErrorCode.Validation, `npy: shape [${a.shape.join(", ")}] needs ${n} values`);
  }
  return Buffer.concat([
    npyFloat32Header(a.shape),
    new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength),
  ]);
}

/** Decodes a little-endian float32 .npy (format 1.x or 2.x, C order); anything else is refused with the reason. */
export function decodeNpyFloat32(buf: Uint8Array): NpyFloat32 {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 10 || !b.subarray(0, 6).equals(MAGIC)) {
    throw new HutchError(ErrorCode.Validation, "npy: not a .npy file (no \\x93NUMPY magic)");
  }
  const major = b[6]!;
  const headerLen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = b.toString("latin1", major === 1 ? 10 : 12, start);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new HutchError(
      ErrorCode.Validation,
      `npy: expected little-endian float32 in C order, got ${header}`,
    );
  }
  const m = /'shape':\s*\(([^)]*)\)/.exec(header);
  const shape = (m?.[1] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const n = shape.reduce((x, y) => x * y, 1);
  if (b.length - start !== n * 4) {
    throw new HutchError(ErrorCode.Validation, `npy: shape [${shape.join(", ")}] needs ${n * 4} bytes`);
  }
  const data = new Float32Array(n);
  new Uint8Array(data.buffer).set(b.subarray(start));
  return { shape, data };
}
