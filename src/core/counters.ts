// Named counters and gauges of a component, exported as metric documents and Prometheus lines.

/**
 * A flat set of numeric counters (monotonic) and gauges (set). Names use snake_case and units
 * (`received`, `dropped`, `bytes_written`, `queue_depth`).
 * @example const c = new Counters(); c.inc("received", 10); c.snapshot(); // { received: 10 }
 */
export class Counters {
  private readonly values = new Map<string, number>();

  /** Adds `n` (default 1) to a counter. */
  inc(name: string, n = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + n);
  }

  /** Sets a gauge. */
  set(name: string, value: number): void {
    this.values.set(name, value);
  }

  /** Current value (0 when never touched). */
  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  /** Copies in every field of a stats object under a prefix (e.g. a queue's stats as `input_*`). */
  absorb(prefix: string, stats: object): void {
    for (const [k, v] of Object.entries(stats))
      if (typeof v === "number") this.values.set(`${prefix}${k}`, v);
  }

  /** A plain copy of every value. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.values);
  }
}
