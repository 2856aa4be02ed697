// The core's table of components: registration over links, heartbeats, lost detection, routing of messages.
import { ErrorCode, HutchError, type Log, type LogLevel } from "../core/index.js";
import type { ComponentToCore, CoreToComponent, Link } from "../component/index.js";
import { ComponentEntry } from "./registry.js";

/** What the table tells the core. */
export interface TableEvents {
  log(level: LogLevel, component: string, message: string): void;
  /** A log line a component sent. */
  componentLog(doc: Log): void;
  /** A heartbeat updated a component's counters. */
  heartbeat(e: ComponentEntry): void;
  /** A component reported a fault, or went silent past the limit. */
  fault(e: ComponentEntry, reason: string): void;
  /** A component asks for a run command (quality rule, instrument watchdog). */
  request(e: ComponentEntry, command: "pause" | "stop" | "abort", reason: string): void;
}

/**
 * Registered components by name. A peer becomes a component with `hello`; a peer the table does not know
 * (the core restarted) is asked to introduce itself again. `check()` declares silent components lost.
 */
export class ComponentTable {
  private readonly byName = new Map<string, ComponentEntry>();

  constructor(
    private readonly instrument: string,
    private readonly events: TableEvents,
    private readonly now: () => number,
  ) {}

  /** Accepts a component connection (in-process link or a ZeroMQ peer). */
  attach(link: Link<CoreToComponent, ComponentToCore>): void {
    let entry: ComponentEntry | undefined;
    link.onMessage((m) => {
      if (m.t === "hello") {
        const old = this.byName.get(m.name);
        if (old && !old.lost && old.link !== link) {
          this.events.log(
            "warn",
            "core",
            `component '${m.name}' registered again; the older connection is replaced`,
          );
          old.markLost("replaced by a new registration");
        }
        entry = new ComponentEntry(m, link, this.now());
        this.byName.set(m.name, entry);
        link.send({ t: "welcome", instrument: this.instrument });
        this.events.log("info", "core", `component '${m.name}' (${m.type}) registered from ${m.placement}`);
      } else if (!entry) {
        link.send({ t: "rehello" });
      } else {
        this.route(entry, m);
      }
    });
  }

  private route(e: ComponentEntry, m: ComponentToCore): void {
    switch (m.t) {
      case "hb":
        e.lastHbMs = this.now();
        if (e.lost) return;
        e.state = m.state;
        e.counters = m.counters;
        e.lastError = m.error;
        this.events.heartbeat(e);
        return;
      case "log":
        this.events.componentLog({
          kind: "log",
          time: m.time,
          level: m.level,
          component: e.name,
          message: m.message,
          ...(m.fields ? { fields: m.fields } : {}),
        });
        return;
      case "reply":
        e.reply(m);
        return;
      case "fail":
        e.state = "ERROR";
        e.lastError = m.reason;
        this.events.log("error", e.name, m.reason);
        this.events.fault(e, `component '${e.name}' failed: ${m.reason}`);
        return;
      case "request":
        this.events.log("warn", e.name, `requests ${m.command}: ${m.reason}`);
        this.events.request(e, m.command, m.reason);
        return;
      case "bye":
        if (this.byName.get(e.name) === e) this.byName.delete(e.name);
        this.events.log("info", "core", `component '${e.name}' closed`);
        return;
      default:
        return;
    }
  }

  /** Declares lost every component silent for longer than `lostAfterMs`; pending calls on it fail at once. */
  check(lostAfterMs: number): void {
    const now = this.now();
    for (const c of this.byName.values()) {
      if (!c.lost && now - c.lastHbMs > lostAfterMs) {
        const reason = `component '${c.name}' lost: no heartbeat for ${now - c.lastHbMs} ms (limit ${lostAfterMs} ms)`;
        c.markLost(reason);
        this.events.fault(c, reason);
      }
    }
  }

  /** Calls a component's action; progress goes to `say`. Unknown component: HUTCH_ERR_UNKNOWN_COMPONENT. */
  call(
    component: string,
    action: string,
    params: unknown,
    timeoutMs: number,
    say: (message: string, data?: unknown) => void,
  ): Promise<unknown> {
    const e = this.byName.get(component);
    if (!e) {
      const have = this.names().join(", ") || "none";
      return Promise.reject(
        new HutchError(ErrorCode.UnknownComponent, `no component '${component}' (have: ${have})`),
      );
    }
    return e.request({ t: "action", action, params }, timeoutMs, (p) => {
      if (p.type === "progress") say(p.message, p.data);
    });
  }

  get(name: string): ComponentEntry | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): ComponentEntry[] {
    return [...this.byName.values()];
  }

  /** Components not lost. */
  live(): ComponentEntry[] {
    return this.all().filter((c) => !c.lost);
  }

  /** Forgets lost components (the operator acknowledged them with reset). */
  dropLost(): void {
    for (const [name, c] of this.byName) if (c.lost) this.byName.delete(name);
  }
}
