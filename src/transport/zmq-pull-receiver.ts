// ZeroMQ PULL reader for data that must not drop: a `block` queue whose fullness stops the socket reads.
import type { Logger } from "../core/index.js";
import { attachSocket, linkAbort, type AttachMode } from "./zmq-endpoint.js";
import { documentSocket, type ZmqBackend } from "./native-zmq.js";
import { ZmqInbox } from "./zmq-inbox.js";
import { InboxSubscription } from "./inbox-subscription.js";

/** Options of a ZmqPullReceiver. */
export interface ZmqPullReceiverOptions {
  /** e.g. `tcp://127.0.0.1:5570`; senders connect here when bound. */
  readonly address: string;
  /** Default `bind` (the receiver is the stable side; several senders may connect). */
  readonly mode?: AttachMode;
  /** Queue size in messages (default 256). When full, reading stops and ZeroMQ pushes back on senders. */
  readonly capacity?: number;
  /** ZeroMQ receive high-water mark in messages (default 1000). */
  readonly receiveHighWaterMark?: number;
  readonly name?: string;
  /** Where rejected messages are reported, at a bounded rate. */
  readonly logger?: Logger;
  /** Closes the reader when aborted. */
  readonly signal?: AbortSignal;
  /** The ZeroMQ library (default `auto`: the native addon when built, else zeromq.js). */
  readonly backend?: ZmqBackend;
}

/**
 * The lossless reader: PULL into a `block` queue. A slow consumer makes the queue fill, the socket stops
 * reading, ZeroMQ's receive and send high-water marks fill and the sender's `send()` waits: nothing drops.
 * Malformed messages are still counted (`wire.rejected`) and skipped.
 * @example
 * const rx = await ZmqPullReceiver.open({ address: "tcp://127.0.0.1:0" });
 * const tx = await ZmqPushSender.open({ address: rx.endpoint, instrument: "demo" });
 * for await (const { doc } of rx) store(doc);
 */
export class ZmqPullReceiver extends InboxSubscription {
  /** Creates the socket and binds (or connects) it. */
  static async open(opts: ZmqPullReceiverOptions): Promise<ZmqPullReceiver> {
    const socket = documentSocket("pull", {
      backend: opts.backend,
      linger: 0,
      receiveHighWaterMark: opts.receiveHighWaterMark ?? 1000,
    });
    const endpoint = await attachSocket(socket, opts.address, opts.mode ?? "bind");
    const inbox = new ZmqInbox(socket, {
      name: opts.name ?? `zmq-pull:${endpoint}`,
      prefix: "",
      capacity: opts.capacity ?? 256,
      overflow: "block",
      logger: opts.logger,
    });
    const unlink = linkAbort(opts.signal, () => inbox.close());
    void inbox.closed().then(unlink);
    return new ZmqPullReceiver(inbox, endpoint);
  }
}
