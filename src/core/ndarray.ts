// N-dimensional arrays as they travel in documents: a dtype name, a shape and a typed array (little-endian).
import { ErrorCode, HutchError } from "./errors.js";

/** Element types; names match numpy's, so `numpy.frombuffer(buf, dtype=name)` works. Always little-endian. */
export const DTYPES = [
  "uint8",
  "int8",
  "uint16",
  "int16",
  "uint32",
  "int32",
  "uint64",
  "int64",
  "float32",
  "float64",
] as const;
/** An element type name. */
export type DType = (typeof DTYPES)[number];

/** The typed array of each dtype. */
export type TypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** An array with its dtype and shape; `data.length` equals the product of `shape`. */
export interface NdArray<T extends TypedArray = TypedArray> {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: T;
}

type Ctor = {
  new (n: number): TypedArray;
  new (b: ArrayBufferLike, o: number, n: number): TypedArray;
  BYTES_PER_ELEMENT: number;
};
const CTORS: Record<DType, Ctor> = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  uint64: BigUint64Array,
  int64: BigInt64Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** Bytes per element of a dtype. */
export function dtypeSize(dtype: DType): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

/** True when `s` names a dtype. */
export function isDType(s: unknown): s is DType {
  return typeof s === "string" && (DTYPES as readonly string[]).includes(s);
}

/** The dtype of a typed array. */
export function dtypeOf(a: TypedArray): DType {
  for (const d of DTYPES) if (a instanceof CTORS[d]) return d;
  throw new HutchError(
    ErrorCode.Validation,
    `not a supported typed array: ${Object.prototype.toString.call(a)}`,
  );
}

/** Number of elements of a shape (1 for a scalar shape []). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Allocates a zeroed array of a dtype and shape. */
export function ndzeros(dtype: DType, shape: readonly number[]): NdArray {
  return { dtype, shape: [...shape], data: new CTORS[dtype](shapeSize(shape)) };
}

/** Wraps a typed array as an NdArray (shape defaults to 1-D). */
export function nd<T extends TypedArray>(data: T, shape: readonly number[] = [data.length]): NdArray<T> {
  if (shapeSize(shape) !== data.length) {
    throw new HutchError(
      ErrorCode.Validation,
      `shape [${shape.join(",")}] does not match ${data.length} elements`,
    );
  }
  return { dtype: dtypeOf(data), shape: [...shape], data };
}

/**
 * A typed-array view of bytes, without copying when the bytes are aligned for the dtype (copying otherwise).
 * Throws when the byte length is not `shape`'s element count times the dtype size.
 */
export function viewBytes(dtype: DType, shape: readonly number[], bytes: Uint8Array): NdArray {
  const size = dtypeSize(dtype);
  const n = shapeSize(shape);
  if (bytes.byteLength !== n * size) {
    throw new HutchError(
      ErrorCode.Wire,
      `array frame holds ${bytes.byteLength} bytes, but dtype ${dtype} with shape [${shape.join(",")}] needs ${n * size}`,
    );
  }
  const C = CTORS[dtype];
  if (bytes.byteOffset % size === 0)
    return { dtype, shape: [...shape], data: new C(bytes.buffer, bytes.byteOffset, n) };
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return { dtype, shape: [...shape], data: new C(copy.buffer, 0, n) };
}

/** The bytes of a typed array, without copying. */
export function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Allocates a typed array for a dtype. */
export function allocTyped(dtype: DType, n: number): TypedArray {
  return new CTORS[dtype](n);
}

/** A typed-array view of `n` elements at `byteOffset` of `buffer` (which must be aligned for the dtype). */
export function viewTyped(dtype: DType, buffer: ArrayBufferLike, byteOffset: number, n: number): TypedArray {
  return new CTORS[dtype](buffer, byteOffset, n);
}
