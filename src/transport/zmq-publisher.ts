// ZeroMQ PUB writer for monitoring fan-out: encodes documents to topic-prefixed multipart messages.
import { ErrorCode, HutchError, topicOf, type Document } from "../core/index.js";
import { encodeDocument } from "../codecs/index.js";
import type { Publisher } from "./bus.js";
import { attachSocket, linkAbort, type AttachMode } from "./zmq-endpoint.js";
import { documentSocket, type FrameWriter, type ZmqBackend } from "./native-zmq.js";

/** Options of a ZmqPublisher. */
export interface ZmqPublisherOptions {
  /** e.g. `tcp://127.0.0.1:5560` (bind) or a broker's `inAddress` (connect). */
  readonly address: string;
  /** Instrument name: the first part of every topic. */
  readonly instrument: string;
  /** Default `bind`. */
  readonly mode?: AttachMode;
  /** ZeroMQ send high-water mark per subscriber, in messages (default 1000); past it PUB drops. */
  readonly sendHighWaterMark?: number;
  /** Node id written as the header's `origin` (echo suppression in bridges); omitted when undefined. */
  readonly origin?: string;
  /** Closes the socket when aborted. */
  readonly signal?: AbortSignal;
  /** The ZeroMQ library (default `auto`: the native addon when built, else zeromq.js). */
  readonly backend?: ZmqBackend;
}

/** Counters of a publisher. */
export interface PublisherStats {
  /** Messages handed to ZeroMQ. */
  sent: number;
  /** Bytes of every frame sent. */
  bytes: number;
  /** Sends that failed (socket closed, encode error). */
  errors: number;
}

/**
 * A PUB socket that publishes documents on `<instrument>/<stream>/<kind>`. PUB never blocks: a subscriber
 * that lags past the high-water mark loses messages (its own counters show it). Lossless data uses
 * ZmqPushSender.
 * @example
 * const pub = await ZmqPublisher.open({ address: "tcp://127.0.0.1:5560", instrument: "demo" });
 * await pub.publish(run.start);
 */
export class ZmqPublisher implements Publisher {
  readonly stats: PublisherStats = { sent: 0, bytes: 0, errors: 0 };

  private unlink: () => void = () => undefined;

  private constructor(
    private readonly socket: FrameWriter,
    /** The address the socket is attached to (resolved port when bound to port 0). */
    readonly endpoint: string,
    private readonly opts: ZmqPublisherOptions,
  ) {}

  /** Creates the socket and binds (or connects) it. */
  static async open(opts: ZmqPublisherOptions): Promise<ZmqPublisher> {
    const socket = documentSocket("pub", {
      backend: opts.backend,
      linger: 0,
      sendHighWaterMark: opts.sendHighWaterMark ?? 1000,
    });
    const endpoint = await attachSocket(socket, opts.address, opts.mode ?? "bind");
    const pub = new ZmqPublisher(socket, endpoint, opts);
    pub.unlink = linkAbort(opts.signal, () => pub.close());
    return pub;
  }

  /** The instrument of every topic. */
  get instrument(): string {
    return this.opts.instrument;
  }

  /**
   * Encodes and sends a document. `opts.origin` overrides the publisher's node id (forwarding). Rejects with
   * HUTCH_ERR_CLOSED after `close()`, HUTCH_ERR_IO when ZeroMQ refuses; both are counted in `stats.errors`.
   */
  async publish(doc: Document, opts: { origin?: string } = {}): Promise<void> {
    const origin = opts.origin ?? this.opts.origin;
    let frames: Buffer[];
    try {
      frames = encodeDocument(
        topicOf(this.opts.instrument, doc),
        doc,
        origin === undefined ? {} : { origin },
      );
    } catch (cause) {
      this.stats.errors++;
      throw new HutchError(ErrorCode.Wire, `cannot encode a '${doc.kind}' document`, { cause });
    }
    await this.sendFrames(frames);
  }

  /** Sends already-encoded frames (from `encodeDocument`); same counting and errors as `publish`. */
  async sendFrames(frames: Buffer[]): Promise<void> {
    if (this.socket.closed) {
      this.stats.errors++;
      throw new HutchError(ErrorCode.Closed, `publisher ${this.endpoint} is closed`);
    }
    try {
      await this.socket.send(frames);
    } catch (cause) {
      this.stats.errors++;
      throw new HutchError(ErrorCode.Io, `publisher ${this.endpoint}: send failed`, { cause });
    }
    this.stats.sent++;
    for (const f of frames) this.stats.bytes += f.byteLength;
  }

  /** Closes the socket at once (linger 0: queued messages are dropped). Idempotent. */
  close(): void {
    this.unlink();
    if (!this.socket.closed) this.socket.close();
  }
}
