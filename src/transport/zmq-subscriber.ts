// ZeroMQ SUB reader for monitoring: prefix subscription into a bounded (by default drop-oldest) queue.
import type { Logger, OverflowPolicy } from "../core/index.js";
import { attachSocket, linkAbort, type AttachMode } from "./zmq-endpoint.js";
import { documentSocket, type ZmqBackend } from "./native-zmq.js";
import { ZmqInbox } from "./zmq-inbox.js";
import { InboxSubscription } from "./inbox-subscription.js";

/** Options of a ZmqSubscriber. */
export interface ZmqSubscriberOptions {
  /** Where the publisher (or a broker's XPUB side) is, e.g. `tcp://127.0.0.1:5560`. */
  readonly address: string;
  /** Topic prefix, e.g. `demo/` or `demo/waveforms/`; empty = everything. */
  readonly prefix?: string;
  /** Default `connect`. */
  readonly mode?: AttachMode;
  /** Queue size in messages (default 1024). */
  readonly capacity?: number;
  /** Default `drop-oldest`: a monitor keeps the newest and counts what it skipped. */
  readonly overflow?: OverflowPolicy;
  /** ZeroMQ receive high-water mark in messages (default 1000). */
  readonly receiveHighWaterMark?: number;
  readonly name?: string;
  /** Where rejected messages are reported, at a bounded rate. */
  readonly logger?: Logger;
  /** Closes the reader when aborted. */
  readonly signal?: AbortSignal;
  /** Skip messages published with this origin node id (a bridge's own echoes). */
  readonly ignoreOrigin?: string;
  /** The ZeroMQ library (default `auto`: the native addon when built, else zeromq.js). */
  readonly backend?: ZmqBackend;
}

/**
 * A SUB socket as a Subscription: an AsyncIterable of decoded documents. PUB/SUB drops when the reader lags
 * (ZeroMQ at its high-water mark, then this queue by policy, counted in `stats.dropped`); use
 * ZmqPullReceiver for data that must not drop. Malformed messages are counted in `wire.rejected` and skipped.
 * @example
 * const sub = await ZmqSubscriber.open({ address: "tcp://127.0.0.1:5560", prefix: "demo/" });
 * for await (const { topic, doc } of sub) console.log(topic, doc.kind);
 */
export class ZmqSubscriber extends InboxSubscription {
  /** Creates the socket, subscribes to the prefix and connects (or binds). */
  static async open(opts: ZmqSubscriberOptions): Promise<ZmqSubscriber> {
    const prefix = opts.prefix ?? "";
    const socket = documentSocket("sub", {
      backend: opts.backend,
      linger: 0,
      receiveHighWaterMark: opts.receiveHighWaterMark ?? 1000,
      subscribe: prefix,
    });
    const endpoint = await attachSocket(socket, opts.address, opts.mode ?? "connect");
    const inbox = new ZmqInbox(socket, {
      name: opts.name ?? `zmq-sub:${prefix || "*"}`,
      prefix,
      capacity: opts.capacity ?? 1024,
      overflow: opts.overflow ?? "drop-oldest",
      logger: opts.logger,
      ignoreOrigin: opts.ignoreOrigin,
    });
    const unlink = linkAbort(opts.signal, () => inbox.close());
    void inbox.closed().then(unlink);
    return new ZmqSubscriber(inbox, endpoint);
  }
}
