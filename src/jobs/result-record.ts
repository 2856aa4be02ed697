// A job's JSON result file as event data: each declared field from the file (or the base), missing values as NaN.
import { existsSync, readFileSync } from "node:fs";
import {
  ErrorCode,
  HutchError,
  allocTyped,
  nd,
  shapeSize,
  type FieldSpec,
  type Event,
} from "../core/index.js";

const isFloat = (d: FieldSpec["dtype"]) => d === "float32" || d === "float64";

function scalar(spec: FieldSpec, v: unknown, key: string): number | string | boolean {
  if (spec.dtype === "string") return v === undefined || v === null ? "" : String(v);
  if (spec.dtype === "bool") return v === true;
  if (v === undefined || v === null) return isFloat(spec.dtype) ? NaN : 0;
  if (typeof v !== "number")
    throw new HutchError(ErrorCode.Validation, `'${key}' should be a number, got ${JSON.stringify(v)}`);
  return v;
}

function array(spec: FieldSpec, v: unknown, key: string): ReturnType<typeof nd> {
  const dtype = spec.dtype === "string" || spec.dtype === "bool" ? "float64" : spec.dtype;
  const n = shapeSize(spec.shape);
  const a = allocTyped(dtype, n);
  if (v === undefined || v === null) {
    if (isFloat(dtype)) (a as Float64Array).fill(NaN);
    return nd(a, spec.shape);
  }
  const flat = Array.isArray(v) ? (v.flat(8) as unknown[]) : undefined;
  if (!flat || flat.length !== n) {
    throw new HutchError(
      ErrorCode.Validation,
      `'${key}' should hold ${n} numbers (shape [${spec.shape.join(", ")}])`,
    );
  }
  for (let i = 0; i < n; i++) {
    const x = flat[i];
    (a as Float64Array)[i] = x === null ? NaN : (x as number);
  }
  return nd(a, spec.shape);
}

/**
 * Event data of a result: for every declared field, the file's value, else the base value, else NaN ("" for
 * strings). JSON has no NaN, so `null` means "no value". An unreadable file gives the base with `status` set to
 * `fallbackStatus` (when the stream has a status field).
 * @example recordOf(fields, { cell: 3 }, "/var/jobs/scan/j1/result.json", "job failed");
 */
export function recordOf(
  fields: Record<string, FieldSpec>,
  base: Record<string, unknown>,
  file: string | undefined,
  fallbackStatus: string,
): { data: Event["data"]; problem?: string } {
  let values: Record<string, unknown> = { ...base };
  let problem: string | undefined;
  if (file && existsSync(file)) {
    try {
      const parsed = JSON.parse(readFileSync(file, "utf8")) as unknown;
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw new Error("not a JSON object");
      values = { ...base, ...(parsed as Record<string, unknown>), ...base };
    } catch (err) {
      problem = `result ${file} is unreadable: ${(err as Error).message}`;
    }
  } else problem = `no result file`;
  if (problem && "status" in fields) values.status = fallbackStatus;
  const data: Event["data"] = {};
  for (const [k, spec] of Object.entries(fields)) {
    try {
      data[k] = spec.shape.length === 0 ? scalar(spec, values[k], k) : array(spec, values[k], k);
    } catch (err) {
      problem = `${problem ? `${problem}; ` : ""}${(err as Error).message}`;
      data[k] = spec.shape.length === 0 ? scalar(spec, undefined, k) : array(spec, undefined, k);
    }
  }
  return problem ? { data, problem } : { data };
}
