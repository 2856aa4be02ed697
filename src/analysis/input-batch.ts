// One input document (event or event page) seen by an analysis stage: columns as numbers, without copying.
import { ErrorCode, HutchError, shapeSize, type DType, type Event, type EventPage } from "../core/index.js";

/** A field of a batch: `size` numbers per event (`shape` per event), event `i` at `data[i*size .. (i+1)*size)`. */
export interface Column {
  readonly data: ArrayLike<number>;
  /** Per-event shape ([] for a scalar, [height, width] for an image). */
  readonly shape: readonly number[];
  readonly size: number;
  readonly dtype: DType | "bool";
}

/**
 * The events of one input document, column by column. Reading a field the stream lacks returns undefined and
 * records the field as missing (the stage runner turns that into an alarm naming it).
 * @example const adc = batch.column("adc"); if (adc) hist.fill(adc.data, { end: batch.n * adc.size });
 */
export class InputBatch {
  readonly n: number;
  /** Event times (unix seconds). */
  readonly time: Float64Array;
  /** Sequence number of the first event. */
  readonly seq: number;
  readonly runUid: string;
  /** Fields asked for and absent. */
  readonly missing = new Set<string>();
  /** Fields asked for and present. */
  readonly present = new Set<string>();
  private readonly cache = new Map<string, Column>();

  constructor(private readonly doc: Event | EventPage) {
    this.runUid = doc.runUid;
    this.seq = doc.seq;
    if (doc.kind === "event-page") {
      this.n = doc.n;
      this.time = doc.time.data as Float64Array;
    } else {
      this.n = 1;
      this.time = Float64Array.of(doc.time);
    }
  }

  /** The stream the document belongs to. */
  get stream(): string {
    return this.doc.stream;
  }

  /** A field as numbers (bigint columns are converted, booleans become 0/1); undefined when absent. */
  column(field: string): Column | undefined {
    const hit = this.cache.get(field);
    if (hit) return hit;
    const col = this.read(field);
    if (!col) {
      this.missing.add(field);
      return undefined;
    }
    this.present.add(field);
    this.cache.set(field, col);
    return col;
  }

  /** A field that must hold one number per event; throws a HUTCH_ERR_VALIDATION error otherwise. */
  scalar(field: string): ArrayLike<number> | undefined {
    const c = this.column(field);
    if (c && c.size !== 1) {
      throw new HutchError(
        ErrorCode.Validation,
        `field '${field}' of stream '${this.stream}' has shape [${c.shape.join(",")}] per event, expected a scalar`,
      );
    }
    return c?.data;
  }

  private read(field: string): Column | undefined {
    const doc = this.doc;
    if (doc.kind === "event-page") {
      const a = doc.data[field];
      if (!a) return undefined;
      const shape = a.shape.slice(1);
      return { data: numeric(a.data), shape, size: shapeSize(shape), dtype: a.dtype };
    }
    const v = doc.data[field];
    if (v === undefined) return undefined;
    if (typeof v === "number") return { data: [v], shape: [], size: 1, dtype: "float64" };
    if (typeof v === "boolean") return { data: [v ? 1 : 0], shape: [], size: 1, dtype: "bool" };
    if (typeof v === "bigint") return { data: [Number(v)], shape: [], size: 1, dtype: "int64" };
    if (typeof v === "string") {
      throw new HutchError(
        ErrorCode.Validation,
        `field '${field}' of stream '${doc.stream}' is a string, expected numbers`,
      );
    }
    return { data: numeric(v.data), shape: v.shape, size: shapeSize(v.shape), dtype: v.dtype };
  }
}

function numeric(a: ArrayLike<number> | BigInt64Array | BigUint64Array): ArrayLike<number> {
  if (a instanceof BigInt64Array || a instanceof BigUint64Array) return Float64Array.from(a, Number);
  return a as ArrayLike<number>;
}
