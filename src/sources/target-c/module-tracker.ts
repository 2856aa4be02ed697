// Per-module counters of a TARGET-C source: datagrams, readouts, gaps and out-of-order readouts.
import type { Counters } from "../../core/index.js";

/**
 * Tracks each module's readout timestamps and counts, into a Counters object, `module_NN_datagrams`,
 * `module_NN_readouts`, `module_NN_gaps` (a step larger than 1.5 readout periods: readouts were lost) and
 * `module_NN_out_of_order` (a timestamp older than the module's newest). The period is `readoutPeriodNs` when
 * given, else the smallest positive step seen in the run.
 * @example const t = new ModuleTracker(32, counters); t.observe(5, batch.timestampNs, 0, 10);
 */
export class ModuleTracker {
  private readonly last: BigUint64Array;
  private readonly seen: Uint8Array;
  private readonly period: Float64Array;
  private readonly names: { datagrams: string; readouts: string; gaps: string; outOfOrder: string }[];

  constructor(
    readonly modules: number,
    private readonly counters: Counters,
    private readonly readoutPeriodNs?: number,
  ) {
    this.last = new BigUint64Array(modules);
    this.seen = new Uint8Array(modules);
    this.period = new Float64Array(modules);
    const width = String(modules - 1).length;
    this.names = Array.from({ length: modules }, (_, m) => {
      const p = `module_${String(m).padStart(Math.max(2, width), "0")}_`;
      return {
        datagrams: `${p}datagrams`,
        readouts: `${p}readouts`,
        gaps: `${p}gaps`,
        outOfOrder: `${p}out_of_order`,
      };
    });
    this.reset();
  }

  /** Forgets timestamps (new run); counters stay. Every module's counters exist (0) from here on. */
  reset(): void {
    this.seen.fill(0);
    this.period.fill(this.readoutPeriodNs ?? Infinity);
    for (const n of this.names) {
      this.counters.inc(n.datagrams, 0);
      this.counters.inc(n.readouts, 0);
      this.counters.inc(n.gaps, 0);
      this.counters.inc(n.outOfOrder, 0);
    }
  }

  /** Counts one datagram of `module` whose accepted readouts have `timestamps[from..to)`. */
  observe(module: number, timestamps: BigUint64Array, from: number, to: number): void {
    const n = this.names[module]!;
    this.counters.inc(n.datagrams);
    this.counters.inc(n.readouts, to - from);
    let gaps = 0;
    let ooo = 0;
    for (let i = from; i < to; i++) {
      const ts = timestamps[i]!;
      if (!this.seen[module]) {
        this.seen[module] = 1;
        this.last[module] = ts;
        continue;
      }
      const last = this.last[module]!;
      if (ts < last) {
        ooo++;
        continue;
      }
      if (ts === last) continue; // a repeat: the builder counts duplicates
      const step = Number(ts - last);
      const period = this.period[module]!;
      if (this.readoutPeriodNs === undefined && step < period) this.period[module] = step;
      else if (step > 1.5 * period) gaps++;
      this.last[module] = ts;
    }
    if (gaps) this.counters.inc(n.gaps, gaps);
    if (ooo) this.counters.inc(n.outOfOrder, ooo);
  }
}
