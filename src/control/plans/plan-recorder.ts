// Records the events of a plan's watched streams from its start, so a collect step misses nothing.
import type { Document } from "../../core/index.js";
import type { InprocBus } from "../../transport/index.js";

/** One event's data: scalars as values, arrays as the typed-array row. */
export type EventData = Record<string, unknown>;

/**
 * Taps the bus (synchronously, so nothing is dropped) and keeps, per watched stream, the newest event data per
 * key value of the current run; a run-start clears it. `changed()` resolves at the next recorded event.
 * @example const rec = new PlanRecorder(bus, ["pmt-gain"]); ...; rec.get("pmt-gain", "cell"); rec.close();
 */
export class PlanRecorder {
  private readonly events = new Map<string, EventData[]>();
  private readonly untap: () => void;
  private wake: (() => void)[] = [];

  constructor(
    bus: InprocBus,
    readonly streams: readonly string[],
  ) {
    const watched = new Set(streams);
    this.untap = bus.tap(`${bus.instrument}/`, ({ doc }) => this.observe(doc, watched));
  }

  private observe(doc: Document, watched: Set<string>): void {
    if (doc.kind === "run-start") {
      this.events.clear();
      return;
    }
    if ((doc.kind !== "event" && doc.kind !== "event-page") || !watched.has(doc.stream)) return;
    const list = this.events.get(doc.stream) ?? [];
    this.events.set(doc.stream, list);
    if (doc.kind === "event") list.push({ ...doc.data });
    else {
      for (let i = 0; i < doc.n; i++) {
        const row: EventData = {};
        for (const [k, a] of Object.entries(doc.data)) {
          const per = a.shape.slice(1).reduce((x, y) => x * y, 1);
          const d = a.data as unknown as {
            subarray(b: number, e: number): ArrayLike<number>;
          } & ArrayLike<number>;
          row[k] = a.shape.length === 1 ? d[i] : d.subarray(i * per, (i + 1) * per);
        }
        list.push(row);
      }
    }
    for (const w of this.wake.splice(0)) w();
  }

  /** The newest event data per value of `key` (as a string) on a stream. */
  byKey(stream: string, key: string): Record<string, EventData> {
    const out: Record<string, EventData> = {};
    for (const e of this.events.get(stream) ?? []) {
      const v = e[key];
      if (v !== undefined) out[String(v)] = e;
    }
    return out;
  }

  /** Resolves at the next recorded event, or after `ms`. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wake = this.wake.filter((w) => w !== done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake.push(done);
    });
  }

  close(): void {
    this.untap();
    for (const w of this.wake.splice(0)) w();
  }
}
