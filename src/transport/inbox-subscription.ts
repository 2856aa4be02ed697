// The Subscription face shared by ZeroMQ readers: every call delegates to the socket's ZmqInbox.
import type { QueueStats } from "../core/index.js";
import type { BusMessage, Subscription } from "./bus.js";
import type { WireStats, ZmqInbox } from "./zmq-inbox.js";

/** A ZeroMQ reader as a Subscription (AsyncIterable of decoded documents over the inbox's bounded queue). */
export abstract class InboxSubscription implements Subscription {
  protected constructor(
    protected readonly inbox: ZmqInbox,
    /** The address the socket is attached to (resolved port when bound to port 0). */
    readonly endpoint: string,
  ) {}

  get name(): string {
    return this.inbox.name;
  }

  /** The topic prefix ("" when the socket does not filter topics). */
  get prefix(): string {
    return this.inbox.prefix;
  }

  /** Queue counters (delivered, dropped by policy, blocked, depth). */
  get stats(): QueueStats {
    return this.inbox.stats;
  }

  /** Socket-side counters: received, bytes, decoded, invalid and rejected by reason, echoes. */
  get wire(): WireStats {
    return this.inbox.wire;
  }

  /** Every counter as one flat record for metrics. */
  counters(): Record<string, number> {
    return this.inbox.counters();
  }

  get(opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<BusMessage | undefined> {
    return this.inbox.get(opts);
  }

  [Symbol.asyncIterator](): AsyncIterator<BusMessage> {
    return this.inbox[Symbol.asyncIterator]();
  }

  /** Resolves when the reader ends, with the error that ended it, if any (never rejects). */
  closed(): Promise<Error | undefined> {
    return this.inbox.closed();
  }

  /** Closes the socket; queued messages can still be drained. Idempotent. */
  close(): void {
    this.inbox.close();
  }
}
