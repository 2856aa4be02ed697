// Reading one field out of an event or an event page as numbers: columns of scalars and the last per-event array.
import { shapeSize, type Event, type EventPage, type NdArray, type TypedArray } from "../core/index.js";

/** An event or a page of events. */
export type DataDoc = Event | EventPage;

const isBig = (a: TypedArray): a is BigInt64Array | BigUint64Array =>
  a instanceof BigInt64Array || a instanceof BigUint64Array;

const numeric = (a: TypedArray): ArrayLike<number> =>
  isBig(a) ? Float64Array.from(a as ArrayLike<bigint>, Number) : (a as unknown as ArrayLike<number>);

/** Number of events in a document. */
export function eventCount(doc: DataDoc): number {
  return doc.kind === "event" ? 1 : doc.n;
}

/** Event times (unix seconds) of a document, one per event. */
export function eventTimes(doc: DataDoc): ArrayLike<number> {
  return doc.kind === "event" ? [doc.time] : (doc.time.data as Float64Array);
}

/** Time of the newest event of a document (unix seconds). */
export function lastTime(doc: DataDoc): number {
  return doc.kind === "event" ? doc.time : ((doc.time.data as Float64Array)[doc.n - 1] ?? 0);
}

/**
 * The values of a scalar field, one per event (bigints and booleans as numbers), or undefined when the document
 * has no such scalar field.
 */
export function scalarColumn(doc: DataDoc, field: string): ArrayLike<number> | undefined {
  if (doc.kind === "event") {
    const v = doc.data[field];
    if (typeof v === "number") return [v];
    if (typeof v === "bigint") return [Number(v)];
    if (typeof v === "boolean") return [v ? 1 : 0];
    if (v && typeof v === "object" && shapeSize(v.shape) === 1) return [Number(v.data[0])];
    return undefined;
  }
  const a = doc.data[field];
  if (!a || a.shape.length !== 1) return undefined;
  return numeric(a.data);
}

/** The value of a string (or any scalar) field of the event at `index` of a document. */
export function scalarAt(doc: DataDoc, field: string, index = 0): string | number | undefined {
  if (doc.kind === "event") {
    const v = doc.data[field];
    if (typeof v === "string" || typeof v === "number") return v;
    if (typeof v === "bigint") return Number(v);
    if (typeof v === "boolean") return v ? 1 : 0;
    return undefined;
  }
  const a = doc.data[field];
  if (!a || a.shape.length !== 1) return undefined;
  return Number(a.data[index]);
}

/**
 * The array of a field for the event at `index` (default the last one), with its per-event shape; a view, not
 * a copy. Undefined when the field is not an array of at least one dimension per event.
 */
export function eventArray(doc: DataDoc, field: string, index?: number): NdArray | undefined {
  if (doc.kind === "event") {
    const v = doc.data[field];
    if (!v || typeof v !== "object" || v.shape.length === 0) return undefined;
    return isBig(v.data) ? { dtype: "float64", shape: v.shape, data: Float64Array.from(numeric(v.data)) } : v;
  }
  const a = doc.data[field];
  if (!a || a.shape.length < 2 || doc.n === 0) return undefined;
  const i = index ?? doc.n - 1;
  const shape = a.shape.slice(1);
  const per = shapeSize(shape);
  const data = a.data.subarray(i * per, (i + 1) * per) as TypedArray;
  return isBig(data)
    ? { dtype: "float64", shape, data: Float64Array.from(numeric(data)) }
    : { dtype: a.dtype, shape, data };
}
