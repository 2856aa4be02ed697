// Prometheus text exposition: every component's counters, states and heartbeats, the bus, and the dashboard itself.
import { RUN_STATES } from "../core/index.js";
import type { SystemStatus } from "../control/index.js";
import type { BusStats } from "../transport/index.js";

/** The dashboard's own counters. */
export interface DashboardCounters {
  readonly clients: number;
  readonly framesSent: number;
  readonly framesSkipped: number;
  readonly framesEncoded: number;
  readonly feedErrors: number;
  readonly alarmsActive: number;
}

const esc = (v: string): string => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const labels = (l: Record<string, string>): string =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(",")}}`;
const num = (v: number): string =>
  Number.isFinite(v) ? String(v) : Number.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";

/** Accumulates metric families in the text format (HELP and TYPE once per family). */
class Exposition {
  private readonly lines: string[] = [];
  private readonly seen = new Set<string>();

  add(name: string, type: "gauge" | "counter", help: string, l: Record<string, string>, v: number): void {
    if (!this.seen.has(name)) {
      this.seen.add(name);
      this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    }
    this.lines.push(`${name}${labels(l)} ${num(v)}`);
  }

  text(): string {
    return `${this.lines.join("\n")}\n`;
  }
}

/**
 * Renders /metrics. Component counters are one family, `hutch_component_counter{component, counter}`, because
 * their names are free (each component chooses its own).
 */
export function renderMetrics(status: SystemStatus, bus: BusStats, dash: DashboardCounters): string {
  const e = new Exposition();
  const inst = status.instrument;
  for (const s of RUN_STATES) {
    e.add(
      "hutch_system_state",
      "gauge",
      "1 for the system's current run state",
      { instrument: inst, state: s },
      s === status.state ? 1 : 0,
    );
  }
  e.add(
    "hutch_run_number",
    "gauge",
    "number of the current run (last run when stopped, -1 if none)",
    { instrument: inst },
    status.run?.number ?? status.lastRun ?? -1,
  );
  for (const [stream, n] of Object.entries(status.run?.counts ?? {})) {
    e.add(
      "hutch_run_events",
      "gauge",
      "events of each stream in the current run",
      { instrument: inst, stream },
      n,
    );
  }
  for (const c of status.components) {
    const l = { instrument: inst, component: c.name };
    e.add("hutch_component_up", "gauge", "1 while the component heartbeats, 0 once lost", l, c.lost ? 0 : 1);
    e.add(
      "hutch_component_heartbeat_age_seconds",
      "gauge",
      "time since the component's last heartbeat",
      l,
      c.heartbeatAgeMs / 1000,
    );
    e.add("hutch_component_error", "gauge", "1 while the component reports an error", l, c.lastError ? 1 : 0);
    for (const s of RUN_STATES) {
      e.add(
        "hutch_component_state",
        "gauge",
        "1 for the component's current run state",
        { ...l, state: s },
        s === c.state ? 1 : 0,
      );
    }
    for (const [k, v] of Object.entries(c.counters)) {
      e.add(
        "hutch_component_counter",
        "gauge",
        "a component's counters and gauges, as in its heartbeats",
        { ...l, counter: k },
        v,
      );
    }
  }
  e.add(
    "hutch_bus_published_total",
    "counter",
    "documents published on the core's in-process bus",
    { instrument: inst },
    bus.published,
  );
  for (const s of bus.subscriptions) {
    const l = { instrument: inst, subscription: s.name, prefix: s.prefix };
    e.add(
      "hutch_bus_subscription_pushed_total",
      "counter",
      "documents offered to a bus subscription",
      l,
      s.stats.pushed,
    );
    e.add(
      "hutch_bus_subscription_delivered_total",
      "counter",
      "documents a subscription's consumer took",
      l,
      s.stats.delivered,
    );
    e.add(
      "hutch_bus_subscription_dropped_total",
      "counter",
      "documents a subscription dropped by its overflow policy",
      l,
      s.stats.dropped,
    );
    e.add(
      "hutch_bus_subscription_blocked_total",
      "counter",
      "times a lossless subscription made a publisher wait",
      l,
      s.stats.blocked,
    );
    e.add("hutch_bus_subscription_depth", "gauge", "documents waiting in a subscription", l, s.stats.depth);
    e.add(
      "hutch_bus_subscription_high_water",
      "gauge",
      "most documents ever waiting in a subscription",
      l,
      s.stats.highWater,
    );
  }
  const d = { instrument: inst };
  e.add("hutch_dashboard_clients", "gauge", "browsers connected to the dashboard WebSocket", d, dash.clients);
  e.add(
    "hutch_dashboard_frames_sent_total",
    "counter",
    "monitor frames sent to browsers",
    d,
    dash.framesSent,
  );
  e.add(
    "hutch_dashboard_frames_skipped_total",
    "counter",
    "updates not sent because a browser was slow (latest-only)",
    d,
    dash.framesSkipped,
  );
  e.add(
    "hutch_dashboard_frames_encoded_total",
    "counter",
    "panel snapshots encoded (once per change, shared)",
    d,
    dash.framesEncoded,
  );
  e.add(
    "hutch_dashboard_feed_errors_total",
    "counter",
    "documents a panel feed failed to read",
    d,
    dash.feedErrors,
  );
  e.add("hutch_alarms_active", "gauge", "alarms currently raised", d, dash.alarmsActive);
  return e.text();
}
