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

/**
 * Sends the hub's frames to one browser. A change marks the panel dirty; a flush runs at once when the last
 * one is older than 1/maxUpdateHz, else when it is due, and sends the newest frame of every dirty panel. While
 * the socket is backed up the flush skips (counted) and retries later: only the latest state is ever sent, so
 * a slow browser costs the server nothing but the skipped count, and the DAQ never waits.
 */
export class WsSession {
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private lastFlushMs = 0;
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
    for (const id of hub.ids()) this.dirty.add(id);
    this.off = hub.onChange((id) => this.mark(id));
    socket.on("close", () => this.close());
    socket.on("error", () => this.close());
    this.schedule();
  }

  /** Marks a feed changed and schedules a flush. */
  mark(id: string): void {
    if (this.closed) return;
    this.dirty.add(id);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    const wait = Math.max(0, this.lastFlushMs + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    if (this.closed || this.socket.readyState !== OPEN) return;
    this.lastFlushMs = Date.now();
    if (this.socket.bufferedAmount > (this.opts.maxBufferedBytes ?? 4 * 1024 * 1024)) {
      this.counters.framesSkipped += this.dirty.size;
      this.schedule();
      return;
    }
    // Layout and status first: the page must know a panel before its data arrives.
    const ids = [...this.dirty].sort((a, b) => rank(a) - rank(b));
    this.dirty.clear();
    for (const id of ids) {
      const frame = this.hub.frame(id);
      if (!frame) continue;
      this.socket.send(frame);
      this.counters.framesSent++;
    }
  }

  /** Stops sending (the socket closed or the server shuts down). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.off();
  }
}
