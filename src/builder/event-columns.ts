// Columns of built events: per-field rows copied as 32-bit words (no bigints, no views per row) and a growable output.
import { ByteSlab } from "../core/index.js";
import { allocTyped, dtypeOf, dtypeSize, shapeSize, type DType, type TypedArray } from "../core/index.js";

/** True on little-endian hosts: index of the low 32-bit word of a uint64 in a Uint32Array view. */
const LE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
/** Index offsets of the low and high words of a uint64 inside a Uint32Array view. */
export const LO = LE ? 0 : 1;
export const HI = 1 - LO;

/** Copy units of a column: 32-bit words when a row is a multiple of 4 bytes, else bytes. */
export type Units = Int32Array | Uint8Array;

/** A Uint32Array over the words of a uint64 column (no copy). */
export function wordsOf(a: BigUint64Array | BigInt64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
}

/** How one per-readout field is copied: row size in elements and in copy units, and its fill row for absent modules. */
export class FieldLayout {
  readonly rowSize: number;
  readonly unitBytes: 4 | 1;
  readonly rowUnits: number;
  /** One row of the fill value (NaN for floats, 0 otherwise), as copy units. */
  readonly fillUnits: Units;

  constructor(
    readonly name: string,
    readonly dtype: DType,
    readonly rowShape: readonly number[],
  ) {
    this.rowSize = shapeSize(rowShape);
    const one = allocTyped(dtype, this.rowSize);
    const rowBytes = one.byteLength;
    this.unitBytes = rowBytes % 4 === 0 ? 4 : 1;
    this.rowUnits = rowBytes / this.unitBytes;
    if (one instanceof Float32Array || one instanceof Float64Array) one.fill(NaN);
    this.fillUnits = this.units(one);
  }

  /** The copy-unit view of a column of this field (copies first if it is not aligned for 32-bit words). */
  units(a: TypedArray): Units {
    if (this.unitBytes === 1) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const aligned = a.byteOffset % 4 === 0 ? a : a.slice();
    return new Int32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
  }

  /** A column of `rows` rows of this field, with its copy-unit view. */
  alloc(rows: number): { data: TypedArray; units: Units } {
    const data = allocTyped(this.dtype, rows * this.rowSize);
    return { data, units: this.units(data) };
  }
}

/** Copies `n` units from `src[s..]` to `dst[d..]` (small rows: a loop beats subarray().set()). */
export function copyUnits(dst: Units, d: number, src: Units, s: number, n: number): void {
  for (let u = 0; u < n; u++) dst[d + u] = src[s + u]!;
}

/**
 * Emitted events waiting to be taken: per event its time, first arrival and completeness; per event and module
 * the mask, the module time and one row of every field. Grows by doubling; `take()` hands out exact-size copies carved from a shared slab.
 */
export class EventAccumulator {
  n = 0;
  private cap = 0;
  time = new BigUint64Array(0);
  timeW: Uint32Array = new Uint32Array(0);
  arrival = new Float64Array(0);
  complete = new Uint8Array(0);
  mask = new Uint8Array(0);
  modTime = new BigUint64Array(0);
  modTimeW: Uint32Array = new Uint32Array(0);
  readonly data: TypedArray[];
  readonly units: Units[];
  private readonly slab = new ByteSlab();

  constructor(
    private readonly modules: number,
    private readonly fields: readonly FieldLayout[],
  ) {
    this.data = fields.map((f) => f.alloc(0).data);
    this.units = fields.map((f) => f.alloc(0).units);
  }

  /** Index of a new event row (growing the columns when full). */
  add(): number {
    if (this.n === this.cap) this.grow(Math.max(16, this.cap * 2));
    return this.n++;
  }

  /** Exact-size copies of the `n` events, then empty. */
  take(): {
    n: number;
    time: BigUint64Array;
    arrival: Float64Array;
    complete: Uint8Array;
    mask: Uint8Array;
    modTime: BigUint64Array;
    fields: Record<string, TypedArray>;
  } {
    const n = this.n;
    const M = this.modules;
    // one allocation, columns carved from it (8-byte aligned first, bytes last)
    const sizes = this.fields.map((f) => Math.ceil((n * M * f.rowSize * dtypeSize(f.dtype)) / 8) * 8);
    const { buffer: buf, offset } = this.slab.take(
      8 * n * (2 + M) + sizes.reduce((a, b) => a + b, 0) + n * (1 + M),
    );
    let at = offset;
    const carve = <T extends TypedArray>(src: T, count: number): T => {
      const C = src.constructor as new (b: ArrayBuffer, o: number, l: number) => T;
      const a = new C(buf, at, count);
      (a as unknown as Uint8Array).set(src.subarray(0, count) as unknown as Uint8Array);
      at += count * src.BYTES_PER_ELEMENT;
      return a;
    };
    const time = carve(this.time, n);
    const arrival = carve(this.arrival, n);
    const modTime = carve(this.modTime, n * M);
    const fields: Record<string, TypedArray> = {};
    this.fields.forEach((f, i) => {
      fields[f.name] = carve(this.data[i]!, n * M * f.rowSize);
      at = Math.ceil(at / 8) * 8;
    });
    const complete = carve(this.complete, n);
    const mask = carve(this.mask, n * M);
    this.n = 0;
    return { n, time, arrival, complete, mask, modTime, fields };
  }

  private grow(cap: number): void {
    const M = this.modules;
    const more = <T extends TypedArray>(a: T, size: number): T => {
      const b = allocTyped(dtypeOf(a), size) as T;
      (b as unknown as { set(x: T): void }).set(a);
      return b;
    };
    this.time = more(this.time, cap);
    this.timeW = wordsOf(this.time);
    this.arrival = more(this.arrival, cap);
    this.complete = more(this.complete, cap);
    this.mask = more(this.mask, cap * M);
    this.modTime = more(this.modTime, cap * M);
    this.modTimeW = wordsOf(this.modTime);
    this.fields.forEach((f, i) => {
      const { data, units } = f.alloc(cap * M);
      (units as Uint8Array).set(this.units[i]! as Uint8Array);
      this.data[i] = data;
      this.units[i] = units;
    });
    this.cap = cap;
  }
}
