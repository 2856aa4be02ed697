// Rows of per-event results (ROI sums, ratios) gathered between publishes and handed out as one event page.
import { nd, type NdArray } from "../core/index.js";

/**
 * Float64 columns plus event times, appended batch by batch into growable typed arrays and taken as a page.
 * Holds at most `maxRows`; past that the oldest rows are dropped and counted, so a stalled publisher cannot grow
 * memory.
 * @example
 * const rows = new RowBuffer(["roi1", "i0"]); rows.append(time, { roi1: sums, i0 }, n, mask);
 * const page = rows.take(); // { time, data: { roi1: nd(...), i0: nd(...) } }
 */
export class RowBuffer {
  private rows = 0;
  private time = new Float64Array(64);
  private cols = new Map<string, Float64Array>();
  /** Rows dropped because the buffer was full. */
  dropped = 0;

  constructor(
    names: readonly string[],
    readonly maxRows = 1_000_000,
  ) {
    for (const n of names) this.cols.set(n, new Float64Array(this.time.length));
  }

  /** Rows waiting. */
  get length(): number {
    return this.rows;
  }

  /** Column names, in order. */
  get names(): string[] {
    return [...this.cols.keys()];
  }

  /**
   * Appends the events `i < n` whose `mask` is non-zero: time[i] and each column's values[i]. Columns not given
   * get NaN.
   */
  append(
    time: ArrayLike<number>,
    values: Record<string, ArrayLike<number>>,
    n: number,
    mask?: ArrayLike<number>,
  ): void {
    this.reserve(this.rows + n);
    const start = this.rows;
    let r = start;
    for (let i = 0; i < n; i++) if (!mask || mask[i]) this.time[r++] = time[i]!;
    for (const [name, col] of this.cols) {
      const v = values[name];
      r = start;
      for (let i = 0; i < n; i++) if (!mask || mask[i]) col[r++] = v ? v[i]! : NaN;
    }
    this.rows = r;
    const over = this.rows - this.maxRows;
    if (over > 0) {
      this.time.copyWithin(0, over, this.rows);
      for (const col of this.cols.values()) col.copyWithin(0, over, this.rows);
      this.rows -= over;
      this.dropped += over;
    }
  }

  /**
   * Changes the columns: kept columns keep their values, new ones are NaN for the rows already waiting
   * (their values were not computed for those events).
   */
  setColumns(names: readonly string[]): void {
    const next = new Map<string, Float64Array>();
    for (const n of names) next.set(n, this.cols.get(n) ?? new Float64Array(this.time.length).fill(NaN));
    this.cols = next;
  }

  /** The waiting rows as page arrays (emptying the buffer), or undefined when there are none. */
  take(): { time: Float64Array; data: Record<string, NdArray> } | undefined {
    if (this.rows === 0) return undefined;
    const time = this.time.slice(0, this.rows);
    const data: Record<string, NdArray> = {};
    for (const [name, col] of this.cols) data[name] = nd(col.slice(0, this.rows));
    this.rows = 0;
    return { time, data };
  }

  private reserve(n: number): void {
    if (n <= this.time.length) return;
    let cap = this.time.length;
    while (cap < n) cap *= 2;
    const grow = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a.subarray(0, this.rows));
      return b;
    };
    this.time = grow(this.time);
    for (const [k, col] of this.cols) this.cols.set(k, grow(col));
  }
}
