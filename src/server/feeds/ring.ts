// A fixed-size ring of (x, y) points that copies out oldest-first: the memory of series and scatter feeds.

/** Keeps the last `capacity` points; `push` is O(1), `ordered()` copies them out oldest first. */
export class PointRing {
  private readonly xs: Float64Array;
  private readonly ys: Float64Array;
  private next = 0;
  size = 0;

  constructor(readonly capacity: number) {
    this.xs = new Float64Array(capacity);
    this.ys = new Float64Array(capacity);
  }

  push(x: number, y: number): void {
    this.xs[this.next] = x;
    this.ys[this.next] = y;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** Drops points whose x is below `minX` (x must be non-decreasing, as times are). */
  dropBefore(minX: number): void {
    while (this.size > 0) {
      const oldest = (this.next - this.size + this.capacity) % this.capacity;
      if (this.xs[oldest]! >= minX) return;
      this.size--;
    }
  }

  /** Copies of the points, oldest first. */
  ordered(): { x: Float64Array; y: Float64Array } {
    const x = new Float64Array(this.size);
    const y = new Float64Array(this.size);
    const first = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) {
      const k = (first + i) % this.capacity;
      x[i] = this.xs[k]!;
      y[i] = this.ys[k]!;
    }
    return { x, y };
  }

  clear(): void {
    this.next = 0;
    this.size = 0;
  }
}
