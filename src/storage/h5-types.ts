// HDF5 column types and attribute values shared by layouts (main thread) and the writer worker; always explicit dtypes.
import { ErrorCode, HutchError, type DType, type TypedArray } from "../core/index.js";
import { nativeHdf5 } from "./native-hdf5.js";

/** A fixed-length UTF-8 string of `bytes` bytes (zero-padded; longer strings are refused, never cut). */
export interface FixedString {
  readonly fixedString: number;
}

/**
 * The element type of a dataset column: a numeric dtype, `bool` (stored as uint8 0/1), `string`
 * (variable-length UTF-8) or a fixed-length string.
 */
export type ColumnType = DType | "bool" | "string" | FixedString;

/** One member of a compound (table) dataset: scalar numeric or fixed-length string (h5wasm writes no array members). */
export interface CompoundMember {
  readonly name: string;
  readonly type: DType | FixedString;
}

/** A compound (row-of-struct) element type, as PyTables tables or the LArPix `packets` dataset use. */
export interface CompoundType {
  readonly compound: readonly CompoundMember[];
}

/** An attribute value. Plain numbers are float64; use {@link attr} for integer dtypes. */
export type AttrValue =
  | string
  | readonly string[]
  | number
  | bigint
  | boolean
  | TypedArray
  | { readonly dtype: DType; readonly value: number | bigint | readonly (number | bigint)[] };

/** Attributes by name. */
export type Attrs = Readonly<Record<string, AttrValue>>;

/** Helpers for explicitly typed attribute values. */
export const attr = {
  int64: (value: number | bigint) => ({ dtype: "int64", value }) as const,
  uint8: (value: number) => ({ dtype: "uint8", value }) as const,
  float64: (value: number) => ({ dtype: "float64", value }) as const,
  /** An int64 array (e.g. a shape); empty arrays are allowed. */
  int64s: (value: readonly number[]) => BigInt64Array.from(value.map((v) => BigInt(v))),
};

/** How one extendable dataset is made: element type, per-row shape, rows per chunk, optional gzip. */
export interface DatasetSpec {
  readonly type: ColumnType | CompoundType;
  /** Shape of one row ([] for a scalar column); the dataset's shape is [rows, ...rowShape]. */
  readonly rowShape: readonly number[];
  /** Rows per HDF5 chunk (>= 1). */
  readonly chunkRows: number;
  /** gzip level 1..9; 0 or undefined = none. */
  readonly gzip?: number;
  readonly attrs?: Attrs;
}

/** h5wasm dtype strings of the numeric dtypes (little-endian, numpy spelling). */
export const H5_DTYPE: Readonly<Record<DType, string>> = {
  uint8: "<B",
  int8: "<b",
  uint16: "<H",
  int16: "<h",
  uint32: "<I",
  int32: "<i",
  uint64: "<Q",
  int64: "<q",
  float32: "<f",
  float64: "<d",
};

const SIZES: Readonly<Record<DType, number>> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  uint64: 8,
  int64: 8,
  float32: 4,
  float64: 8,
};

/** True for a compound type. */
export function isCompound(t: ColumnType | CompoundType): t is CompoundType {
  return typeof t === "object" && "compound" in t;
}

/** True for the variable-length string type (written through pointers, not raw bytes). */
export function isVlenString(t: ColumnType | CompoundType): t is "string" {
  return t === "string";
}

/** Bytes of one element of a fixed-size type (compound: the packed row size). Throws for `string`. */
export function elementBytes(t: ColumnType | CompoundType): number {
  if (typeof t === "object") {
    if ("fixedString" in t) return t.fixedString;
    return t.compound.reduce((n, m) => n + elementBytes(m.type), 0);
  }
  if (t === "bool") return 1;
  if (t === "string") {
    throw new HutchError(ErrorCode.Internal, "variable-length strings have no fixed element size");
  }
  return SIZES[t];
}

/** The h5wasm dtype description of a column type (string, or [[name, dtype], ...] for compounds). */
export function h5Dtype(t: ColumnType | CompoundType): string | [string, string][] {
  if (typeof t === "object") {
    if ("fixedString" in t) {
      if (!Number.isInteger(t.fixedString) || t.fixedString < 1) {
        throw new HutchError(ErrorCode.Validation, `fixed string size must be >= 1, got ${t.fixedString}`);
      }
      // 'A' = NULLTERM/NULLPAD C strings, read by h5py as numpy 'S<n>' (bytes).
      return `A${t.fixedString}`;
    }
    return t.compound.map((m) => [m.name, h5Dtype(m.type) as string]);
  }
  if (t === "bool") return "<B";
  if (t === "string") return "S";
  return H5_DTYPE[t];
}

/** HDF5's default chunk cache per dataset (bytes); chunks larger than it are written directly, without a copy. */
const H5_CHUNK_CACHE_BYTES = 1 << 20;

/**
 * Rows per chunk aiming at `targetBytes` per chunk (at least 1, at most 1 Mi rows). Rows of 64 KiB and more get
 * whole chunks of their own: the native writer (`uncached`, no chunk cache) then writes each from the caller's
 * memory in SWMR mode, where HDF5 caches partial chunks. h5wasm keeps HDF5's 1 MiB cache: there such rows get
 * chunks just over it, which HDF5 writes straight from the caller's buffer.
 */
export function chunkRowsFor(
  rowBytes: number,
  targetBytes: number,
  uncached = nativeHdf5 !== undefined,
): number {
  if (rowBytes >= 64 * 1024) return uncached ? 1 : Math.floor(H5_CHUNK_CACHE_BYTES / rowBytes) + 1;
  return Math.max(1, Math.min(1 << 20, Math.floor(targetBytes / Math.max(1, rowBytes))));
}
