// Writes and reads HDF5 attributes with explicit dtypes (h5wasm would store 4.0 as an integer otherwise).
import type { Module as ModuleVar, default as H5Wasm } from "h5wasm/node";
import { dtypeOf, ErrorCode, HutchError } from "../core/index.js";
import { H5_DTYPE, type AttrValue, type Attrs } from "./h5-types.js";

/** The h5wasm module object (low-level functions). */
export type H5Module = typeof ModuleVar;
/** The h5wasm library (File, Group, ...); imported lazily by callers, as loading it costs ~0.3 s. */
export type H5Lib = typeof H5Wasm;

/** The h5wasm call arguments for one attribute value: data, shape and an explicit dtype. */
export function attrArgs(value: AttrValue): {
  data: string | string[] | number | bigint | number[] | bigint[] | ArrayBufferView;
  shape: number[] | null;
  dtype: string;
} {
  if (typeof value === "string") return { data: value, shape: null, dtype: "S" };
  if (typeof value === "number") return { data: value, shape: null, dtype: H5_DTYPE.float64 };
  if (typeof value === "bigint") return { data: value, shape: null, dtype: H5_DTYPE.int64 };
  if (typeof value === "boolean") return { data: value ? 1 : 0, shape: null, dtype: H5_DTYPE.uint8 };
  if (ArrayBuffer.isView(value)) {
    return { data: value, shape: [value.length], dtype: H5_DTYPE[dtypeOf(value)] };
  }
  if (Array.isArray(value)) return { data: [...(value as string[])], shape: [value.length], dtype: "S" };
  const typed = value as Exclude<AttrValue, string | number | bigint | boolean | readonly string[]>;
  if ("dtype" in typed) {
    const big = typed.dtype === "int64" || typed.dtype === "uint64";
    const conv = (v: number | bigint) => (big ? BigInt(v) : Number(v));
    if (Array.isArray(typed.value)) {
      const arr = (typed.value as (number | bigint)[]).map(conv);
      return { data: arr as number[] | bigint[], shape: [arr.length], dtype: H5_DTYPE[typed.dtype] };
    }
    return { data: conv(typed.value as number | bigint), shape: null, dtype: H5_DTYPE[typed.dtype] };
  }
  throw new HutchError(ErrorCode.Validation, `unsupported attribute value ${String(value)}`);
}

/** Creates (or replaces) attributes on the object at `path` of an open file. */
export function writeAttrs(h5: H5Lib, mod: H5Module, fileId: bigint, path: string, attrs: Attrs): void {
  const obj = new h5.Group(fileId, path);
  const existing = new Set(mod.get_attribute_names(fileId, path));
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    if (existing.has(name)) obj.delete_attribute(name);
    const { data, shape, dtype } = attrArgs(value);
    obj.create_attribute(name, data as never, shape, dtype);
  }
}
