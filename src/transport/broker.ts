// The bus broker: XSUB (publishers connect) -> XPUB (listeners subscribe), forwarding frames undecoded.
import { XPublisher, XSubscriber } from "zeromq";
import { ErrorCode, HutchError, RateLimiter, type Logger } from "../core/index.js";
import { decodeDocument, wireRejectReason } from "../codecs/index.js";
import type { BusMessage } from "./bus.js";
import { attachSocket, linkAbort } from "./zmq-endpoint.js";
import { newWireStats, type WireStats } from "./zmq-inbox.js";

/** Options of a BusBroker. */
export interface BusBrokerOptions {
  /** XSUB side, bound: remote publishers (satellite processes) connect here. */
  readonly inAddress: string;
  /** XPUB side, bound: listeners (`hutch listen`, Python, satellites) subscribe here. */
  readonly outAddress: string;
  /** Called with every decodable message that came in on `inAddress` (see `listen`). */
  readonly onMessage?: BrokerListener;
  /** High-water marks of both sockets, in messages (default 1000). Past it XPUB drops for that listener. */
  readonly highWaterMark?: number;
  /** Where undecodable messages are reported (at most 5 a second) when listeners decode. */
  readonly logger?: Logger;
  /** Closes the broker when aborted. */
  readonly signal?: AbortSignal;
}

/** Receives decoded documents; a returned promise holds back the next message (back-pressure on XSUB). */
export type BrokerListener = (msg: BusMessage) => void | Promise<void>;

/** Counters of a broker. */
export interface BrokerStats {
  /** Messages forwarded from XSUB to XPUB. */
  messages: number;
  /** Bytes of every forwarded frame. */
  bytes: number;
  /** Messages sent out by the hosting process with `sendFrames`. */
  local: number;
  /** Subscription messages passed from listeners upstream. */
  subscriptions: number;
  /** Send or receive failures. */
  errors: number;
}

/**
 * A forwarding hub (ZeroMQ's XSUB/XPUB proxy pattern) run in this process so it can count and deliver what
 * passes: frames go out unchanged, listeners registered with `listen` (or `onMessage`) get decoded documents
 * for the hosting process's own bus. Invalid messages are forwarded as they are and counted in `wire`.
 * @example
 * const broker = await BusBroker.open({ inAddress: "tcp://127.0.0.1:5559", outAddress: "tcp://127.0.0.1:5560" });
 * broker.listen((m) => bus.publish(m.doc, { origin: m.origin ?? "remote" }));
 */
export class BusBroker {
  readonly stats: BrokerStats = { messages: 0, bytes: 0, local: 0, subscriptions: 0, errors: 0 };
  /** Decoding counters for listeners (decoded, invalid by reason). */
  readonly wire: WireStats = newWireStats();
  private listeners: BrokerListener[] = [];
  private readonly limiter = new RateLimiter(5, 1000);
  private readonly loops: Promise<void>[];
  private unlink: () => void = () => undefined;
  /** Sends on the XPUB socket, one at a time: zeromq.js refuses a send while another is in flight. */
  private sending: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly xsub: XSubscriber,
    private readonly xpub: XPublisher,
    /** Resolved XSUB endpoint (publishers connect here). */
    readonly inAddress: string,
    /** Resolved XPUB endpoint (listeners connect here). */
    readonly outAddress: string,
    private readonly logger: Logger | undefined,
  ) {
    this.loops = [this.forward(), this.subscriptionsUp()];
  }

  /** Binds both sides. The broker subscribes upstream to everything, so listeners see every message. */
  static async open(opts: BusBrokerOptions): Promise<BusBroker> {
    const hwm = opts.highWaterMark ?? 1000;
    const xsub = new XSubscriber({ linger: 0, receiveHighWaterMark: hwm, sendHighWaterMark: hwm });
    const xpub = new XPublisher({ linger: 0, receiveHighWaterMark: hwm, sendHighWaterMark: hwm });
    let inAddress: string;
    try {
      inAddress = await attachSocket(xsub, opts.inAddress, "bind");
    } catch (err) {
      xpub.close();
      throw err;
    }
    let outAddress: string;
    try {
      outAddress = await attachSocket(xpub, opts.outAddress, "bind");
    } catch (err) {
      xsub.close();
      throw err;
    }
    await xsub.send(Buffer.from([1])); // subscribe to every topic: the hosting process sees it all
    const broker = new BusBroker(xsub, xpub, inAddress, outAddress, opts.logger);
    if (opts.onMessage) broker.listen(opts.onMessage);
    broker.unlink = linkAbort(opts.signal, () => void broker.close());
    return broker;
  }

  /** Adds a listener of decoded incoming documents; returns a function that removes it. */
  listen(fn: BrokerListener): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
    };
  }

  /**
   * Sends encoded frames (from `encodeDocument`) straight out of the XPUB side, for the hosting process's own
   * documents; they are not passed to listeners. XPUB never blocks: a lagging listener loses messages.
   */
  async sendFrames(frames: Buffer[]): Promise<void> {
    if (this.xpub.closed) throw new HutchError(ErrorCode.Closed, `broker ${this.outAddress} is closed`);
    try {
      await this.sendOut(frames);
      this.stats.local++;
    } catch (cause) {
      this.stats.errors++;
      throw new HutchError(ErrorCode.Io, `broker ${this.outAddress}: send failed`, { cause });
    }
  }

  /** Closes both sockets and waits for the forwarding loops to end. Idempotent. */
  async close(): Promise<void> {
    this.unlink();
    if (!this.xsub.closed) this.xsub.close();
    if (!this.xpub.closed) this.xpub.close();
    await Promise.all(this.loops);
  }

  private async forward(): Promise<void> {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await this.xsub.receive();
        await this.sendOut(frames);
      } catch {
        if (this.xsub.closed || this.xpub.closed) return;
        this.stats.errors++;
        continue;
      }
      this.stats.messages++;
      for (const f of frames) this.stats.bytes += f.byteLength;
      if (this.listeners.length > 0) await this.deliver(frames);
    }
  }

  private sendOut(frames: Buffer[]): Promise<void> {
    const next = this.sending.then(() => this.xpub.send(frames));
    this.sending = next.catch(() => undefined);
    return next;
  }

  private async deliver(frames: Buffer[]): Promise<void> {
    this.wire.received++;
    let msg: BusMessage;
    try {
      msg = decodeDocument(frames);
    } catch (err) {
      const reason = wireRejectReason(err) ?? "header";
      this.wire.invalid++;
      this.wire.rejected[reason]++;
      if (this.logger && this.limiter.take()) {
        this.logger.warn(`broker: rejected a message (${reason}): ${(err as Error).message}`, { reason });
      }
      return;
    }
    this.wire.decoded++;
    for (const l of this.listeners) {
      try {
        await l(msg);
      } catch (err) {
        this.stats.errors++;
        this.logger?.error(`broker: a listener failed: ${(err as Error).message}`);
      }
    }
  }

  private async subscriptionsUp(): Promise<void> {
    for (;;) {
      try {
        const frames = await this.xpub.receive();
        await this.xsub.send(frames);
        this.stats.subscriptions++;
      } catch {
        if (this.xsub.closed || this.xpub.closed) return;
        this.stats.errors++;
      }
    }
  }
}
