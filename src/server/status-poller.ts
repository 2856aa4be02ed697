// Keeps the `$status` frame fresh: polls the operator API while browsers are connected, at once on state changes.
import { toHutchError } from "../core/index.js";
import type { OperatorApi } from "../control/index.js";
import type { InprocBus } from "../transport/index.js";
import { ValueFeed } from "./feeds/feed.js";
import type { MonitorHub } from "./monitor-hub.js";

/** Status is polled this often while a browser is connected (heartbeat ages and counters move). */
const POLL_MS = 500;

/**
 * Owns the `$status` feed. The body is the SystemStatus plus `now` (server time, unix s) so the page computes
 * elapsed time and heartbeat ages against the server's clock; unchanged statuses are not re-sent.
 */
export class StatusPoller {
  readonly feed = new ValueFeed("$status");
  private readonly timer: NodeJS.Timeout;
  private readonly untap: () => void;
  private connected = 0;
  private inFlight = false;
  private again = false;
  private last = "";
  /** The last error of a status call (the page shows the core as unreachable). */
  lastError: string | undefined;

  constructor(
    private readonly core: OperatorApi,
    private readonly hub: MonitorHub,
    bus: InprocBus,
  ) {
    hub.addFeed(this.feed);
    this.timer = setInterval(() => {
      if (this.connected > 0) void this.poll();
    }, POLL_MS);
    this.timer.unref?.();
    this.untap = bus.tap(`${bus.instrument}/`, ({ doc }) => {
      if (doc.kind === "state" || doc.kind === "run-start" || doc.kind === "run-stop") void this.poll();
    });
    void this.poll();
  }

  /** Tells the poller how many browsers are connected (it only polls periodically while there are some). */
  clients(n: number): void {
    this.connected = n;
    if (n > 0) void this.poll();
  }

  /** Fetches the status now (coalescing overlapping calls). */
  async poll(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    try {
      const s = await this.core.status({ timeoutMs: 2000 });
      this.lastError = undefined;
      const text = JSON.stringify(s);
      if (text !== this.last) {
        this.last = text;
        this.feed.set("status", { ...s, now: Date.now() / 1000 });
        this.hub.changed(this.feed.id);
      }
    } catch (err) {
      this.lastError = toHutchError(err).message;
      this.feed.set("status", { error: this.lastError, now: Date.now() / 1000 });
      this.hub.changed(this.feed.id);
    } finally {
      this.inFlight = false;
      if (this.again) {
        this.again = false;
        void this.poll();
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.untap();
  }
}
