// Per-module counters of a TARGET-C source: datagrams, readouts, gaps and out-of-order readouts.
import type { Counters } from "../../core/index.js";
import { HOST_LITTLE_ENDIAN } from "../../codecs/index.js";

const LO = HOST_LITTLE_ENDIAN ? 0 : 1;
const HI = 1 - LO;
const KINDS = ["datagrams", "readouts", "gaps", "out_of_order"] as const;

/**
 * Tracks each module's readout timestamps and counts `module_NN_datagrams`, `module_NN_readouts`,
 * `module_NN_gaps` (a step larger than 1.5 readout periods: readouts were lost or reordered) and
 * `module_NN_out_of_order` (a timestamp older than the module's newest). The period is `readoutPeriodNs` when
 * given, else the smallest positive step seen in the run. Counting is in typed arrays (no bigints, no map
 * lookups per datagram); `sync()` copies the counts into the Counters.
 * @example const t = new ModuleTracker(32, counters); t.observe(5, batch.tsWords, 0, 10); t.sync();
 */
export class ModuleTracker {
  /** Counts by kind (datagrams, readouts, gaps, out_of_order) and module: index kind * modules + module. */
  private readonly counts: Float64Array;
  private readonly synced: Float64Array;
  private readonly names: string[];
  /** Newest timestamp per module as (lo, hi) 32-bit words. */
  private readonly last: Uint32Array;
  private readonly seen: Uint8Array;
  private readonly period: Float64Array;
  /** True when something was counted since the last sync. */
  private dirty = false;

  constructor(
    readonly modules: number,
    private readonly counters: Counters,
    private readonly readoutPeriodNs?: number,
  ) {
    this.counts = new Float64Array(KINDS.length * modules);
    this.synced = new Float64Array(KINDS.length * modules);
    const width = Math.max(2, String(modules - 1).length);
    this.names = KINDS.flatMap((k) =>
      Array.from({ length: modules }, (_, m) => `module_${String(m).padStart(width, "0")}_${k}`),
    );
    this.last = new Uint32Array(2 * modules);
    this.seen = new Uint8Array(modules);
    this.period = new Float64Array(modules);
    this.reset();
  }

  /** Forgets timestamps (new run); counts stay. Every module's counters exist (0) from here on. */
  reset(): void {
    this.seen.fill(0);
    this.period.fill(this.readoutPeriodNs ?? Infinity);
    for (const n of this.names) this.counters.inc(n, 0);
  }

  /**
   * Counts one datagram of `module` whose accepted readouts are rows `from..to-1` of `words`: uint64 timestamps
   * as host-order 32-bit halves (a Uint32Array view of a BigUint64Array column).
   */
  observe(module: number, words: Uint32Array, from: number, to: number): void {
    const M = this.modules;
    const c = this.counts;
    this.dirty = true;
    c[module]!++;
    c[M + module]! += to - from;
    const w = words;
    const last = this.last;
    const l = 2 * module;
    for (let i = from; i < to; i++) {
      const lo = w[2 * i + LO]!;
      const hi = w[2 * i + HI]!;
      if (!this.seen[module]) {
        this.seen[module] = 1;
        last[l] = lo;
        last[l + 1] = hi;
        continue;
      }
      const step = (hi - last[l + 1]!) * 4294967296 + (lo - last[l]!);
      if (step < 0) {
        c[3 * M + module]!++;
        continue;
      }
      if (step === 0) continue; // a repeat: the builder counts duplicates
      const period = this.period[module]!;
      if (this.readoutPeriodNs === undefined && step < period) this.period[module] = step;
      else if (step > 1.5 * period) c[2 * M + module]!++;
      last[l] = lo;
      last[l + 1] = hi;
    }
  }

  /** Adds what was counted since the last sync to the Counters. */
  sync(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const c = this.counts;
    const s = this.synced;
    for (let i = 0; i < c.length; i++) {
      if (c[i] !== s[i]) {
        this.counters.inc(this.names[i]!, c[i]! - s[i]!);
        s[i] = c[i]!;
      }
    }
  }
}
