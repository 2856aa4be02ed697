// The in-process document bus: prefix subscriptions over bounded queues, synchronous taps, explicit back-pressure.
import { BoundedQueue, topicOf, type Document, type OverflowPolicy, type QueueStats } from "../core/index.js";

/** A document with its topic. */
export interface BusMessage {
  readonly topic: string;
  readonly doc: Document;
  /** Which node published it (used by bridges to avoid echo); undefined = this process. */
  readonly origin?: string;
}

/** Options of a subscription. */
export interface SubscribeOptions {
  /** Topic prefix, e.g. `demo/` or `demo/waveforms/`. Empty = everything. */
  readonly prefix: string;
  /** `block` makes publishers wait (lossless, for storage); monitors use `latest-only` or `drop-oldest`. */
  readonly overflow?: OverflowPolicy;
  readonly capacity?: number;
  readonly name?: string;
}

/** A subscription: an AsyncIterable of messages over a bounded queue; breaking out of `for await` closes it. */
export interface Subscription extends AsyncIterable<BusMessage> {
  readonly name: string;
  readonly prefix: string;
  readonly stats: QueueStats;
  /** Next message within `timeoutMs`, or undefined. */
  get(opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<BusMessage | undefined>;
  close(): void;
}

/** Something documents can be published to. */
export interface Publisher {
  /** Publishes a document; resolves once every lossless subscriber has queued it (back-pressure). */
  publish(doc: Document, opts?: { origin?: string }): Promise<void>;
}

/** Counters of the bus: published documents and, per subscription, its queue stats. */
export interface BusStats {
  published: number;
  subscriptions: { name: string; prefix: string; stats: QueueStats }[];
}

interface Sub {
  readonly prefix: string;
  readonly queue: BoundedQueue<BusMessage>;
}

interface Tap {
  readonly prefix: string;
  readonly fn: (m: BusMessage) => void;
}

/**
 * The document bus of one process. Every component publishes here; bridges (ZeroMQ, NATS) are taps that forward
 * to the network and publish what arrives with an `origin`, so nothing echoes.
 * @example
 * const bus = new InprocBus("demo");
 * const sub = bus.subscribe({ prefix: "demo/waveforms/", overflow: "block", capacity: 64 });
 * await bus.publish(page);
 * for await (const { doc } of sub) ...
 */
export class InprocBus implements Publisher {
  private subs: Sub[] = [];
  private taps: Tap[] = [];
  private published = 0;
  private closedFlag = false;

  constructor(readonly instrument: string) {}

  async publish(doc: Document, opts: { origin?: string } = {}): Promise<void> {
    if (this.closedFlag) return;
    const topic = topicOf(this.instrument, doc);
    const msg: BusMessage = opts.origin === undefined ? { topic, doc } : { topic, doc, origin: opts.origin };
    this.published++;
    for (const t of this.taps) if (topic.startsWith(t.prefix)) t.fn(msg);
    let waits: Promise<void>[] | undefined;
    for (const s of this.subs) {
      if (!topic.startsWith(s.prefix)) continue;
      if (!s.queue.push(msg) && s.queue.overflow === "block" && !s.queue.isClosed) {
        (waits ??= []).push(s.queue.put(msg).catch(() => undefined));
      }
    }
    if (waits) await Promise.all(waits);
  }

  /** Subscribes to a topic prefix with a bounded queue (default 1024, drop-oldest). */
  subscribe(opts: SubscribeOptions): Subscription {
    const queue = new BoundedQueue<BusMessage>({
      capacity: opts.capacity ?? 1024,
      overflow: opts.overflow ?? "drop-oldest",
      name: opts.name ?? `sub:${opts.prefix}`,
    });
    const sub: Sub = { prefix: opts.prefix, queue };
    this.subs.push(sub);
    void queue.closed().then(() => {
      this.subs = this.subs.filter((s) => s !== sub);
    });
    if (this.closedFlag) queue.close();
    return {
      name: queue.name,
      prefix: opts.prefix,
      stats: queue.stats,
      get: (o) => queue.get(o),
      close: () => queue.close(),
      [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
    };
  }

  /** Calls `fn` synchronously for every message under `prefix` (counting, bridging). Returns an unsubscribe. */
  tap(prefix: string, fn: (m: BusMessage) => void): () => void {
    const t: Tap = { prefix, fn };
    this.taps.push(t);
    return () => {
      this.taps = this.taps.filter((x) => x !== t);
    };
  }

  stats(): BusStats {
    return {
      published: this.published,
      subscriptions: this.subs.map((s) => ({ name: s.queue.name, prefix: s.prefix, stats: s.queue.stats })),
    };
  }

  /** Ends every subscription (consumers drain what they hold). */
  close(): void {
    this.closedFlag = true;
    for (const s of this.subs) s.queue.close();
    this.taps = [];
  }
}
