// ZeroMQ PUSH writer for data that must not drop: `send()` waits on ZeroMQ's back-pressure, in order.
import { ErrorCode, HutchError, topicOf, type Document } from "../core/index.js";
import { encodeDocument } from "../codecs/index.js";
import type { Publisher } from "./bus.js";
import { attachSocket, linkAbort, type AttachMode } from "./zmq-endpoint.js";
import { documentSocket, type FrameWriter, type ZmqBackend } from "./native-zmq.js";
import type { PublisherStats } from "./zmq-publisher.js";

const NO_OPTS = {};

/** Options of a ZmqPushSender. */
export interface ZmqPushSenderOptions {
  /** The receiver's address, e.g. `tcp://127.0.0.1:5570`. */
  readonly address: string;
  /** Instrument name: the first part of every topic. */
  readonly instrument: string;
  /** Default `connect` (the receiver binds). */
  readonly mode?: AttachMode;
  /** ZeroMQ send high-water mark in messages (default 1000); past it `send()` waits. */
  readonly sendHighWaterMark?: number;
  /** How long queued messages may still be delivered after `close()`, in ms (default 2000). */
  readonly lingerMs?: number;
  /** Node id written as the header's `origin`. */
  readonly origin?: string;
  /** Closes the socket when aborted. */
  readonly signal?: AbortSignal;
  /** The ZeroMQ library (default `auto`: the native addon when built, else zeromq.js). */
  readonly backend?: ZmqBackend;
}

/**
 * The lossless writer: a PUSH socket whose `send()` resolves once ZeroMQ has queued the message, and waits
 * (never drops) while the receiver is slow or absent. Concurrent calls are sent one at a time, in call order.
 * @example
 * const tx = await ZmqPushSender.open({ address: rx.endpoint, instrument: "demo" });
 * for (const page of pages) await tx.send(page);
 */
export class ZmqPushSender implements Publisher {
  readonly stats: PublisherStats = { sent: 0, bytes: 0, errors: 0 };
  private inflight: Promise<void> | undefined;

  private unlink: () => void = () => undefined;

  private constructor(
    private readonly socket: FrameWriter,
    /** The address the socket is attached to. */
    readonly endpoint: string,
    private readonly opts: ZmqPushSenderOptions,
  ) {}

  /** Creates the socket and connects (or binds) it. */
  static async open(opts: ZmqPushSenderOptions): Promise<ZmqPushSender> {
    const socket = documentSocket("push", {
      backend: opts.backend,
      linger: opts.lingerMs ?? 2000,
      sendHighWaterMark: opts.sendHighWaterMark ?? 1000,
    });
    const endpoint = await attachSocket(socket, opts.address, opts.mode ?? "connect");
    const sender = new ZmqPushSender(socket, endpoint, opts);
    sender.unlink = linkAbort(opts.signal, () => sender.close());
    return sender;
  }

  /** Same as `send` (the Publisher interface); `opts.origin` overrides the node id. */
  publish(doc: Document, opts: { origin?: string } = {}): Promise<void> {
    return this.send(doc, opts);
  }

  /**
   * Encodes and queues a document, waiting while ZeroMQ pushes back. Rejects with HUTCH_ERR_CLOSED when the
   * sender is closed (also while waiting); the document was then not sent.
   */
  send(doc: Document, opts: { origin?: string } = {}): Promise<void> {
    const origin = opts.origin ?? this.opts.origin;
    let frames: Buffer[];
    try {
      frames = encodeDocument(
        topicOf(this.opts.instrument, doc),
        doc,
        origin === undefined ? NO_OPTS : { origin },
      );
    } catch (err) {
      return Promise.reject(err);
    }
    return this.sendFrames(frames); // no second async frame per message
  }

  /** Queues already-encoded frames, with the same waiting and ordering as `send`. */
  async sendFrames(frames: Buffer[]): Promise<void> {
    // One zmq send may wait at a time (zeromq.js refuses a second with EBUSY): later calls queue here, in order.
    while (this.inflight) {
      try {
        await this.inflight;
      } catch {
        // that send's caller handles its error
      }
    }
    if (this.socket.closed) {
      this.stats.errors++;
      throw new HutchError(ErrorCode.Closed, `push sender ${this.endpoint} is closed`);
    }
    let p: Promise<void> | undefined;
    try {
      p = this.socket.send(frames); // may throw synchronously (EBUSY, closed)
      this.inflight = p;
      await p;
    } catch (cause) {
      this.stats.errors++;
      const closed = this.socket.closed;
      throw new HutchError(
        closed ? ErrorCode.Closed : ErrorCode.Io,
        closed
          ? `push sender ${this.endpoint} closed while sending`
          : `push sender ${this.endpoint}: send failed`,
        { cause },
      );
    } finally {
      if (p && this.inflight === p) this.inflight = undefined;
    }
    this.stats.sent++;
    for (const f of frames) this.stats.bytes += f.byteLength;
  }

  /** Closes the socket; messages already queued are delivered for up to `lingerMs`. Idempotent. */
  close(): void {
    this.unlink();
    if (!this.socket.closed) this.socket.close();
  }
}
