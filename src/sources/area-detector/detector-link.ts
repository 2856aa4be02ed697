// The source's TCP link to an area detector's driver (or its simulator): frames in, JSON commands and replies.
import { Socket } from "node:net";
import { AdStreamParser, encodeAdJson, type AdFrameMeta } from "../../codecs/index.js";
import { ErrorCode, HutchError, toHutchError, type Logger } from "../../core/index.js";

/** What the detector says when a link opens. */
export interface DetectorHello {
  readonly t: "hello";
  readonly model: string;
  readonly width: number;
  readonly height: number;
  readonly gain: number;
  readonly binning: number;
  /** The detector free-runs after this long without a trigger (ms). */
  readonly idleAfterMs: number;
  readonly readoutUs: number;
}

/** A reply to a command. */
export interface DetectorReply {
  readonly ok: boolean;
  readonly error?: string;
  readonly [k: string]: unknown;
}

/** Options of a link. */
export interface DetectorLinkOptions {
  /** `host:port` of the detector's frame server. */
  readonly address: string;
  /** Delay before reconnecting after the link dropped (ms). */
  readonly reconnectMs?: number;
  readonly log: Logger;
  readonly onFrame: (meta: AdFrameMeta, pixels: Uint16Array) => void;
  /** The link came up (with the detector's hello) or went down (with the reason). */
  readonly onState?: (up: boolean, why: string) => void;
}

/**
 * Keeps one TCP connection to the detector, reconnecting after a drop. Frames go to `onFrame` as they arrive;
 * `command()` sends a JSON command and waits for its reply (by id) within a timeout, never longer. `pause()`
 * stops reading (TCP back-pressure reaches the driver) while the consumer catches up.
 * @example const link = DetectorLink.open({ address: "127.0.0.1:5700", log, onFrame }); await link.ready(5000);
 */
export class DetectorLink {
  private socket: Socket | undefined;
  private helloMsg: DetectorHello | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly pending = new Map<
    number,
    { resolve: (r: DetectorReply) => void; reject: (e: Error) => void }
  >();
  private nextId = 1;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private lastError = "not connected yet";

  private constructor(private readonly opts: DetectorLinkOptions) {}

  /** Starts connecting (in the background) and returns at once. */
  static open(opts: DetectorLinkOptions): DetectorLink {
    const link = new DetectorLink(opts);
    link.connect();
    return link;
  }

  /** The detector's hello of the current connection, if up. */
  get hello(): DetectorHello | undefined {
    return this.helloMsg;
  }

  /** Waits until the link is up; rejects with HUTCH_ERR_TIMEOUT naming the address and the last error. */
  async ready(timeoutMs: number): Promise<DetectorHello> {
    if (this.helloMsg) return this.helloMsg;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(done);
        reject(
          new HutchError(
            ErrorCode.Timeout,
            `detector at ${this.opts.address} not reachable within ${timeoutMs} ms (${this.lastError})`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      this.waiters.add(done);
    });
    return this.helloMsg!;
  }

  /** Sends a command and waits for its reply; a refusal (`ok: false`) rejects with the detector's reason. */
  async command(cmd: Record<string, unknown>, timeoutMs: number): Promise<DetectorReply> {
    const s = this.socket;
    if (!s || !this.helloMsg) {
      throw new HutchError(
        ErrorCode.Io,
        `detector at ${this.opts.address} is not connected (${this.lastError})`,
      );
    }
    const id = this.nextId++;
    const reply = new Promise<DetectorReply>((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new HutchError(
            ErrorCode.Timeout,
            `detector did not answer '${String(cmd.t)}' within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => (clearTimeout(t), resolve(r)),
        reject: (e) => (clearTimeout(t), reject(e)),
      });
    });
    s.write(encodeAdJson({ ...cmd, id }));
    const r = await reply;
    if (!r.ok) {
      throw new HutchError(
        ErrorCode.Config,
        `detector refused '${String(cmd.t)}': ${r.error ?? "no reason given"}`,
      );
    }
    return r;
  }

  /** Stops reading frames (back-pressure). */
  pause(): void {
    this.socket?.pause();
  }

  /** Reads again. */
  resume(): void {
    this.socket?.resume();
  }

  private connect(): void {
    if (this.closed) return;
    const [host, port] = splitAddress(this.opts.address);
    const s = new Socket();
    this.socket = s;
    s.setNoDelay(true);
    const parser = new AdStreamParser({
      frame: (meta, pixels) => this.opts.onFrame(meta, pixels),
      json: (m) => this.onJson(m),
    });
    s.on("data", (chunk) => {
      try {
        parser.push(chunk);
      } catch (err) {
        s.destroy(toHutchError(err));
      }
    });
    s.on("error", (err) => {
      this.lastError = err.message;
    });
    s.on("close", () => this.dropped(s));
    s.connect(port, host);
  }

  private onJson(m: unknown): void {
    const msg = m as { t?: string; id?: number } & Record<string, unknown>;
    if (msg.t === "hello") {
      const first = !this.helloMsg;
      this.helloMsg = msg as unknown as DetectorHello;
      this.lastError = "connected";
      for (const w of this.waiters) w();
      this.waiters.clear();
      if (first) this.opts.onState?.(true, `connected to ${this.opts.address}`);
      return;
    }
    if (msg.t === "reply" && typeof msg.id === "number") {
      this.pending.get(msg.id)?.resolve(msg as unknown as DetectorReply);
      this.pending.delete(msg.id);
      return;
    }
    this.opts.log.debug(`detector message ignored: ${JSON.stringify(m).slice(0, 200)}`);
  }

  private dropped(s: Socket): void {
    if (this.socket !== s) return;
    const wasUp = this.helloMsg !== undefined;
    this.socket = undefined;
    this.helloMsg = undefined;
    const why = `link to the detector at ${this.opts.address} lost (${this.lastError})`;
    for (const p of this.pending.values()) p.reject(new HutchError(ErrorCode.Io, why));
    this.pending.clear();
    if (wasUp) this.opts.onState?.(false, why);
    if (!this.closed) {
      this.timer = setTimeout(() => this.connect(), this.opts.reconnectMs ?? 500);
      this.timer.unref?.();
    }
  }

  /** Closes the connection and stops reconnecting. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const s = this.socket;
    this.socket = undefined;
    for (const p of this.pending.values()) p.reject(new HutchError(ErrorCode.Closed, "detector link closed"));
    this.pending.clear();
    if (s && !s.destroyed) {
      await new Promise<void>((r) => {
        s.once("close", () => r());
        s.destroy();
      });
    }
  }
}

/** Splits `host:port` (IPv6 in brackets allowed). */
export function splitAddress(address: string): [string, number] {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) throw new HutchError(ErrorCode.Config, `'${address}' is not host:port`);
  return [m[1]!, Number(m[2])];
}
