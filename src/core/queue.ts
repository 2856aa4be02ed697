// A bounded push-to-pull queue with a declared overflow policy, consumed as an AsyncIterable; every drop counted.
import { ErrorCode, HutchError } from "./errors.js";

/**
 * What happens when a producer pushes into a full queue:
 * - `block`: nothing is dropped; `put()` waits for space (back-pressure), `push()` refuses and counts `refused`.
 * - `drop-oldest`: the oldest item is discarded (counted) to make room.
 * - `drop-newest`: the pushed item is discarded (counted).
 * - `latest-only`: the queue keeps only the newest item (capacity 1); skipped items are counted.
 */
export const OVERFLOW_POLICIES = ["block", "drop-oldest", "drop-newest", "latest-only"] as const;
/** An overflow policy. */
export type OverflowPolicy = (typeof OVERFLOW_POLICIES)[number];

/** Queue options. */
export interface QueueOptions {
  /** Maximum number of items held (forced to 1 for latest-only). */
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  /** Name used in metrics and errors. */
  readonly name?: string;
}

/** Counters of a queue; `dropped` counts every item lost by policy. */
export interface QueueStats {
  pushed: number;
  delivered: number;
  dropped: number;
  refused: number;
  depth: number;
  highWater: number;
  /** Times a producer had to wait for space (block policy). */
  blocked: number;
}

/**
 * A bounded queue. Producers `push()` (sync) or `await put()` (waits for space under `block`); one consumer
 * iterates with `for await`, breaking out closes the queue. `close()` lets the consumer drain what is queued;
 * `close(err)` makes the iteration throw `err` after draining.
 * @example
 * const q = new BoundedQueue<number>({ capacity: 1024, overflow: "drop-oldest" });
 * q.push(1); q.close();
 * for await (const x of q) console.log(x);
 */
export class BoundedQueue<T> implements AsyncIterable<T> {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  readonly name: string;
  readonly stats: QueueStats = {
    pushed: 0,
    delivered: 0,
    dropped: 0,
    refused: 0,
    depth: 0,
    highWater: 0,
    blocked: 0,
  };
  private readonly ring: (T | undefined)[];
  private head = 0;
  private size = 0;
  private done = false;
  private error: Error | undefined;
  private takers: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  private spaceWaiters: (() => void)[] = [];
  private closedResolvers: ((e: Error | undefined) => void)[] = [];

  constructor(opts: QueueOptions) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1) {
      throw new HutchError(
        ErrorCode.Validation,
        `queue capacity must be an integer >= 1, got ${opts.capacity}`,
      );
    }
    this.overflow = opts.overflow;
    this.capacity = opts.overflow === "latest-only" ? 1 : opts.capacity;
    this.name = opts.name ?? "queue";
    this.ring = new Array<T | undefined>(this.capacity);
  }

  /** Number of items waiting. */
  get length(): number {
    return this.size;
  }

  /** True once closed. */
  get isClosed(): boolean {
    return this.done;
  }

  /**
   * Offers an item without waiting. Returns false when the item was not queued (full under `block` or
   * `drop-newest`, or closed); under `drop-oldest`/`latest-only` it always queues, dropping the oldest.
   */
  push(item: T): boolean {
    if (this.done) return false;
    const taker = this.takers.shift();
    if (taker) {
      this.stats.pushed++;
      this.stats.delivered++;
      taker.resolve({ value: item, done: false });
      return true;
    }
    if (this.size === this.capacity) {
      switch (this.overflow) {
        case "block":
          this.stats.refused++;
          return false;
        case "drop-newest":
          this.stats.pushed++;
          this.stats.dropped++;
          return false;
        default:
          this.ring[this.head] = undefined;
          this.head = (this.head + 1) % this.capacity;
          this.size--;
          this.stats.dropped++;
      }
    }
    this.ring[(this.head + this.size) % this.capacity] = item;
    this.size++;
    this.stats.pushed++;
    this.stats.depth = this.size;
    if (this.size > this.stats.highWater) this.stats.highWater = this.size;
    return true;
  }

  /**
   * Queues an item, waiting for space when full under `block` (back-pressure); other policies never wait.
   * Rejects with HUTCH_ERR_CLOSED when the queue is closed (also while waiting).
   */
  async put(item: T): Promise<void> {
    for (;;) {
      if (this.done) throw new HutchError(ErrorCode.Closed, `${this.name}: queue closed`);
      if (this.push(item)) return;
      if (this.overflow !== "block") return;
      this.stats.refused--; // a waiting put is not a refusal
      this.stats.blocked++;
      await new Promise<void>((r) => this.spaceWaiters.push(r));
    }
  }

  /** Takes the next item, waiting up to `timeoutMs` (forever when omitted); undefined on timeout or end. */
  async get(opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<T | undefined> {
    const r = this.takeNow();
    if (r) return r.done ? this.endOrThrow() : r.value;
    return new Promise<T | undefined>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const entry = {
        resolve: (res: IteratorResult<T>) => {
          cleanup();
          resolve(res.done ? undefined : res.value);
        },
        reject: (e: unknown) => {
          cleanup();
          reject(e);
        },
      };
      const cancel = () => {
        this.takers = this.takers.filter((t) => t !== entry);
        cleanup();
        resolve(undefined);
      };
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener("abort", cancel);
      };
      if (opts.timeoutMs !== undefined) timer = setTimeout(cancel, opts.timeoutMs);
      opts.signal?.addEventListener("abort", cancel, { once: true });
      this.takers.push(entry);
    });
  }

  /** Takes everything queued now, without waiting (for batch consumers). */
  drainNow(max = Infinity): T[] {
    const out: T[] = [];
    while (this.size > 0 && out.length < max) out.push(this.shift());
    return out;
  }

  /** Ends the queue: consumers drain what is queued, then end (or throw `err`). Idempotent. */
  close(err?: Error): void {
    if (this.done) return;
    this.done = true;
    this.error = err;
    for (const w of this.spaceWaiters.splice(0)) w();
    if (this.size === 0) this.flushTakers();
    for (const r of this.closedResolvers.splice(0)) r(err);
  }

  /** Resolves (never rejects) when the queue is closed, with the error it was closed with, if any. */
  closed(): Promise<Error | undefined> {
    if (this.done) return Promise.resolve(this.error);
    return new Promise((r) => this.closedResolvers.push(r));
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const r = this.takeNow();
        if (r) {
          if (r.done && this.error) return Promise.reject(this.error);
          return Promise.resolve(r);
        }
        return new Promise<IteratorResult<T>>((resolve, reject) => this.takers.push({ resolve, reject }));
      },
      return: () => {
        this.close();
        this.drainNow();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private takeNow(): IteratorResult<T> | undefined {
    if (this.size > 0) {
      const value = this.shift();
      return { value, done: false };
    }
    if (this.done) return { value: undefined, done: true };
    return undefined;
  }

  private endOrThrow(): undefined {
    if (this.error) throw this.error;
    return undefined;
  }

  private shift(): T {
    const v = this.ring[this.head] as T;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    this.stats.delivered++;
    this.stats.depth = this.size;
    const w = this.spaceWaiters.shift();
    if (w) w();
    if (this.done && this.size === 0) this.flushTakers();
    return v;
  }

  private flushTakers(): void {
    for (const t of this.takers.splice(0)) {
      if (this.error) t.reject(this.error);
      else t.resolve({ value: undefined, done: true });
    }
  }
}
