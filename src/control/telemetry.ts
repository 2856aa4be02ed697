// The core's telemetry: log documents (kept in a ring for `hutch logs`) and metric documents, at most 1/s each.
import { nowSec, type Log, type LogLevel } from "../core/index.js";
import type { InprocBus } from "../transport/index.js";

/** Flat counters of a bus: `published` and `<subscription>.<counter>` for every subscription. */
export function busValues(bus: InprocBus): Record<string, number> {
  const st = bus.stats();
  const v: Record<string, number> = { published: st.published };
  for (const s of st.subscriptions) {
    for (const k of ["delivered", "dropped", "blocked", "depth"] as const) v[`${s.name}.${k}`] = s.stats[k];
  }
  return v;
}

/**
 * Publishes log and metric documents for the core. Logs are also kept (the last `keep`) for operators;
 * metrics of one source go out at most once per `everyMs`, so heartbeats every 300 ms do not flood the bus.
 */
export class Telemetry {
  private readonly ring: Log[] = [];
  private readonly lastMetricMs = new Map<string, number>();

  constructor(
    private readonly bus: InprocBus,
    private readonly now: () => number,
    private readonly keep = 1000,
    private readonly everyMs = 1000,
  ) {}

  /** A log line of the core, or of a component on its behalf. */
  log(level: LogLevel, component: string, message: string): void {
    this.push({ kind: "log", time: nowSec(), level, component, message });
  }

  /** A log document as it came (from a component). */
  push(doc: Log): void {
    this.ring.push(doc);
    if (this.ring.length > this.keep) this.ring.splice(0, this.ring.length - this.keep);
    void this.bus.publish(doc);
  }

  /** Raises an alarm of the core (severity error) that operators see on the page and in `hutch listen`. */
  alarm(id: string, message: string): void {
    void this.bus.publish({
      kind: "alarm",
      time: nowSec(),
      id,
      source: "core",
      severity: "error",
      message,
      active: true,
    });
  }

  /** The last `n` log documents. */
  last(n: number): Log[] {
    return this.ring.slice(-n);
  }

  /** A metric of `component` (values copied by the bus's consumers), unless one went out less than `everyMs` ago. */
  metric(component: string, values: () => Record<string, number>): void {
    const now = this.now();
    if (now - (this.lastMetricMs.get(component) ?? 0) < this.everyMs) return;
    this.lastMetricMs.set(component, now);
    void this.bus.publish({ kind: "metric", time: nowSec(), component, values: values() });
  }
}
