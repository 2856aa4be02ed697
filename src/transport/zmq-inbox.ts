// The receive loop shared by ZeroMQ readers: frames -> decodeDocument -> bounded queue, rejects counted by reason.
import {
  BoundedQueue,
  ErrorCode,
  HutchError,
  RateLimiter,
  type Logger,
  type OverflowPolicy,
  type QueueStats,
} from "../core/index.js";
import {
  WIRE_REJECT_REASONS,
  decodeDocument,
  wireRejectReason,
  type WireRejectReason,
} from "../codecs/index.js";
import type { BusMessage, Subscription } from "./bus.js";
import type { FrameReader } from "./native-zmq.js";

/** Counters of a reader: what arrived, what was rejected (by reason), echoes dropped, socket errors. */
export interface WireStats {
  /** Multipart messages read from the socket. */
  received: number;
  /** Bytes of every frame read. */
  bytes: number;
  /** Messages that decoded into a valid document. */
  decoded: number;
  /** Messages rejected; the sum of `rejected`. */
  invalid: number;
  rejected: Record<WireRejectReason, number>;
  /** Messages skipped because they carry this node's own origin (bridges). */
  echoes: number;
  /** Receive errors other than closing. */
  errors: number;
}

/** Options shared by ZeroMQ readers. */
export interface InboxOptions {
  readonly name: string;
  readonly prefix: string;
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  /** Rejects are logged at most `logPerSecond` times a second (default 5), the rest counted. */
  readonly logger?: Logger;
  readonly logPerSecond?: number;
  /** Skip messages whose header `origin` equals this node id (echo suppression). */
  readonly ignoreOrigin?: string;
}

/** A fresh WireStats. */
export function newWireStats(): WireStats {
  const rejected = Object.fromEntries(WIRE_REJECT_REASONS.map((r) => [r, 0])) as Record<
    WireRejectReason,
    number
  >;
  return { received: 0, bytes: 0, decoded: 0, invalid: 0, rejected, echoes: 0, errors: 0 };
}

/**
 * Reads a ZeroMQ socket into a bounded queue. Malformed messages are counted, logged at a bounded rate and
 * skipped; the loop never throws. Under `block`, a full queue stops the reads, so ZeroMQ's high-water marks
 * push back on the sender. Closing the queue (or breaking out of `for await`) closes the socket.
 */
export class ZmqInbox implements Subscription {
  readonly name: string;
  readonly prefix: string;
  readonly wire: WireStats = newWireStats();
  private readonly queue: BoundedQueue<BusMessage>;
  private readonly limiter: RateLimiter;
  private closing = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly socket: FrameReader,
    private readonly opts: InboxOptions,
  ) {
    this.name = opts.name;
    this.prefix = opts.prefix;
    this.queue = new BoundedQueue<BusMessage>({
      capacity: opts.capacity,
      overflow: opts.overflow,
      name: opts.name,
    });
    this.limiter = new RateLimiter(opts.logPerSecond ?? 5, 1000);
    void this.queue.closed().then(() => this.close());
    this.done = this.loop();
  }

  get stats(): QueueStats {
    return this.queue.stats;
  }

  get(opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<BusMessage | undefined> {
    return this.queue.get(opts);
  }

  [Symbol.asyncIterator](): AsyncIterator<BusMessage> {
    return this.queue[Symbol.asyncIterator]();
  }

  /** Resolves when the queue is closed, with the error that ended it, if any (never rejects). */
  closed(): Promise<Error | undefined> {
    return this.queue.closed();
  }

  /** Counters as one flat record (`wire_received`, `wire_rejected_schema`, `queue_dropped`, ...) for metrics. */
  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    const { rejected, ...rest } = this.wire;
    for (const [k, v] of Object.entries(rest)) out[`wire_${k}`] = v;
    for (const [k, v] of Object.entries(rejected)) out[`wire_rejected_${k}`] = v;
    for (const [k, v] of Object.entries(this.queue.stats)) out[`queue_${k}`] = v;
    return out;
  }

  /** Stops reading and closes the socket; the consumer drains what is queued. Idempotent. */
  close(err?: Error): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.close();
    this.queue.close(err);
  }

  /** Resolves once the receive loop has ended (after `close()`). */
  async ended(): Promise<void> {
    await this.done;
  }

  private async loop(): Promise<void> {
    const block = this.opts.overflow === "block";
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await this.socket.receive();
      } catch (cause) {
        if (this.closing || this.socket.closed) return;
        this.wire.errors++;
        this.close(new HutchError(ErrorCode.Io, `${this.name}: receive failed`, { cause }));
        return;
      }
      this.wire.received++;
      for (const f of frames) this.wire.bytes += f.byteLength;
      let msg: BusMessage;
      try {
        msg = decodeDocument(frames);
      } catch (err) {
        this.rejectFrames(err);
        continue;
      }
      this.wire.decoded++;
      if (msg.origin !== undefined && msg.origin === this.opts.ignoreOrigin) {
        this.wire.echoes++;
        continue;
      }
      if (block && this.queue.length >= this.queue.capacity) {
        try {
          await this.queue.put(msg); // back-pressure: no reads until the consumer makes room
        } catch {
          return; // queue closed while waiting
        }
      } else {
        this.queue.push(msg);
      }
      if (this.closing) return;
    }
  }

  private rejectFrames(err: unknown): void {
    const reason = wireRejectReason(err) ?? "header";
    this.wire.invalid++;
    this.wire.rejected[reason]++;
    if (this.opts.logger && this.limiter.take()) {
      this.opts.logger.warn(`${this.name}: rejected a message (${reason}): ${(err as Error).message}`, {
        reason,
        invalid: this.wire.invalid,
        suppressed: this.limiter.suppressed,
      });
      this.limiter.suppressed = 0;
    }
  }
}
