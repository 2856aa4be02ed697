// One browser's WebSocket: sends changed panels' frames at most `maxUpdateHz` times a second, latest-only.
import type { MonitorHub } from "./monitor-hub.js";

/** The part of a `ws` WebSocket the session uses. */
export interface FrameSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  on(event: "close" | "error", fn: () => void): void;
  on(event: "message", fn: (data: unknown) => void): void;
}

/** Session options. */
export interface SessionOptions {
  /** Frames per second per panel at most (the instrument file's `server.maxUpdateHz`). */
  readonly maxUpdateHz: number;
  /** Skip sending while the socket holds more than this many unsent bytes (a slow browser). Default 4 MiB. */
  readonly maxBufferedBytes?: number;
}

/** Counters of every session together (for /metrics). */
export interface SessionCounters {
  framesSent: number;
  framesSkipped: number;
}

const OPEN = 1;
const rank = (id: string): number =>
  id === "$layout" ? 0 : id === "$status" ? 1 : id.startsWith("$") ? 2 : 3;

/** Frames a panel may send back to back (token bucket): absorbs timer jitter without raising the mean rate. */
const BURST = 2;

/**
 * Sends the hub's frames to one browser, each panel at most `maxUpdateHz` times a second on average (a token
 * bucket of BURST frames per panel, refilled at maxUpdateHz). A change of a panel with a token goes out at once
 * (next macrotask, batched with other changes), else when its next token is due; in between, newer changes
 * replace older ones (only the latest is ever sent). While the socket is backed up nothing is sent (counted as
 * skipped) and the panels stay due: a slow browser costs the server nothing, and the DAQ never waits for it.
 */
export class WsSession {
  /** Panel id -> when it may be sent next (ms); present while the panel has an unsent change. */
  private readonly due = new Map<string, number>();
  /** Panel id -> tokens at time `t` (ms). */
  private readonly bucket = new Map<string, { tokens: number; t: number }>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;
  private readonly intervalMs: number;
  private readonly off: () => void;

  constructor(
    private readonly socket: FrameSocket,
    private readonly hub: MonitorHub,
    private readonly opts: SessionOptions,
    private readonly counters: SessionCounters,
  ) {
    this.intervalMs = 1000 / opts.maxUpdateHz;
    for (const id of hub.ids()) this.due.set(id, 0);
    this.off = hub.onChange((id) => this.mark(id));
    socket.on("close", () => this.close());
    socket.on("error", () => this.close());
    this.schedule(0);
  }

  /** Marks a feed changed and schedules its send. */
  mark(id: string): void {
    if (this.closed || this.due.has(id)) return;
    const b = this.tokens(id, Date.now());
    const at = b.tokens >= 1 ? b.t : b.t + (1 - b.tokens) * this.intervalMs;
    this.due.set(id, at);
    this.schedule(at);
  }

  /** The panel's bucket, refilled up to `now`. */
  private tokens(id: string, now: number): { tokens: number; t: number } {
    let b = this.bucket.get(id);
    if (!b) this.bucket.set(id, (b = { tokens: BURST, t: now }));
    b.tokens = Math.min(BURST, b.tokens + (now - b.t) / this.intervalMs);
    b.t = now;
    return b;
  }

  private schedule(atMs: number): void {
    if (this.closed || atMs >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = atMs;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.flush();
      },
      Math.max(0, atMs - Date.now()),
    );
  }

  private flush(): void {
    if (this.closed || this.socket.readyState !== OPEN) return;
    const now = Date.now();
    if (this.socket.bufferedAmount > (this.opts.maxBufferedBytes ?? 4 * 1024 * 1024)) {
      this.counters.framesSkipped += this.due.size;
      this.schedule(now + this.intervalMs);
      return;
    }
    // Layout and status first: the page must know a panel before its data arrives.
    const ready = [...this.due].filter(([, at]) => at <= now).map(([id]) => id);
    ready.sort((a, b) => rank(a) - rank(b));
    for (const id of ready) {
      this.due.delete(id);
      const frame = this.hub.frame(id);
      if (!frame) continue;
      this.tokens(id, now).tokens -= 1;
      this.socket.send(frame);
      this.counters.framesSent++;
    }
    let next = Infinity;
    for (const at of this.due.values()) next = Math.min(next, at);
    if (next < Infinity) this.schedule(next);
  }

  /** Stops sending (the socket closed or the server shuts down). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.off();
  }
}
