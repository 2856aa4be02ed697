// A bounded history of values by tag: the newest N tags of any named column, NaN where a value never came.
import { ErrorCode, HutchError } from "../../core/index.js";

/** The newest tags of some columns, oldest first: `values[name][i]` belongs to `tags[i]`. */
export interface TagRows {
  readonly tags: Float64Array;
  readonly values: Record<string, Float64Array>;
}

/**
 * Keeps the last `capacity` tags (2000 by default, as SACLA's grabber) and, per tag, one value of each column
 * (`point.i0`, `rois.roi1`...). Values of one tag may come from several streams at different times; a column
 * first seen late reads NaN for older tags. When full, the oldest tag is dropped with all its values; a value
 * for a tag older than everything kept is refused and counted (`late`). Memory is fixed: capacity x columns.
 * @example
 * const h = new TagHistory(2000);
 * h.put(100, "point.i0", 0.52); h.put(100, "rois.roi1", 1.2e5);
 * h.newest(120, ["point.i0", "rois.roi1"]);
 */
export class TagHistory {
  /** Values refused because their tag was older than the whole history. */
  late = 0;
  private readonly tagOf: Float64Array;
  private readonly slotOf = new Map<number, number>();
  private readonly cols = new Map<string, Float64Array>();
  private next = 0;
  private filled = 0;

  constructor(readonly capacity = 2000) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new HutchError(
        ErrorCode.Validation,
        `history capacity must be an integer >= 1 tags, got ${capacity}`,
      );
    }
    this.tagOf = new Float64Array(capacity).fill(NaN);
  }

  /** Tags held. */
  get size(): number {
    return this.filled;
  }

  /** Column names, in the order they were first seen. */
  names(): string[] {
    return [...this.cols.keys()];
  }

  /** The newest tag held (undefined when empty). */
  newestTag(): number | undefined {
    let best: number | undefined;
    for (const t of this.slotOf.keys()) if (best === undefined || t > best) best = t;
    return best;
  }

  /** The oldest tag held (undefined when empty). */
  oldestTag(): number | undefined {
    let best: number | undefined;
    for (const t of this.slotOf.keys()) if (best === undefined || t < best) best = t;
    return best;
  }

  /** Stores `value` of `column` for `tag`. Returns false when the tag is older than the history (counted). */
  put(tag: number, column: string, value: number): boolean {
    const slot = this.slotFor(tag);
    if (slot === undefined) {
      this.late++;
      return false;
    }
    let col = this.cols.get(column);
    if (!col) this.cols.set(column, (col = new Float64Array(this.capacity).fill(NaN)));
    col[slot] = value;
    return true;
  }

  /**
   * The newest `n` tags (by tag number), oldest first, with the given columns (NaN where a tag has no value).
   * Throws HUTCH_ERR_VALIDATION naming an unknown column and the known ones.
   */
  newest(n: number, columns: readonly string[]): TagRows {
    for (const c of columns) {
      if (!this.cols.has(c)) {
        throw new HutchError(
          ErrorCode.Validation,
          `no column '${c}' in the history (known: ${this.names().join(", ") || "none yet"})`,
        );
      }
    }
    const held = [...this.slotOf].sort((a, b) => a[0] - b[0]);
    const take = held.slice(Math.max(0, held.length - Math.max(0, Math.floor(n))));
    const tags = Float64Array.from(take, ([t]) => t);
    const values: Record<string, Float64Array> = {};
    for (const c of columns) {
      const col = this.cols.get(c)!;
      values[c] = Float64Array.from(take, ([, s]) => col[s]!);
    }
    return { tags, values };
  }

  /** Forgets every tag (columns stay known). */
  clear(): void {
    this.slotOf.clear();
    this.tagOf.fill(NaN);
    for (const c of this.cols.values()) c.fill(NaN);
    this.next = 0;
    this.filled = 0;
  }

  private slotFor(tag: number): number | undefined {
    const hit = this.slotOf.get(tag);
    if (hit !== undefined) return hit;
    const slot = this.next;
    if (this.filled === this.capacity) {
      const old = this.tagOf[slot]!;
      // A value for a tag older than the one we would drop belongs before the whole history.
      if (tag < old) return undefined;
      this.slotOf.delete(old);
      for (const c of this.cols.values()) c[slot] = NaN;
    } else this.filled++;
    this.tagOf[slot] = tag;
    this.slotOf.set(tag, slot);
    this.next = (slot + 1) % this.capacity;
    return slot;
  }
}
