// The receive path of the LArPix source: board messages -> one columnar batch -> `packets` pages, counted by kind.
import {
  BOARD_REJECTIONS,
  LarpixPacketBatch,
  decodeWords,
  readBoardMessage,
  type BoardRejection,
} from "../../codecs/index.js";
import { PagePublisher, type ComponentContext } from "../../component/index.js";
import { ByteSlab, RateLimiter, nowSec, type StreamFactory } from "../../core/index.js";
import { packetColumns } from "./packet-streams.js";
import type { PixelLayout } from "./pixel-layout.js";

/** Called with every decoded batch (rows `[0, b.n)`) before it is published; must not keep the arrays. */
export type PacketListener = (b: LarpixPacketBatch) => void;

/** Smallest batch (rows): pages of a quiet board stay small. */
const MIN_BATCH = 256;

/** Counter names of rejected messages, by reason. */
const REJECTED: Record<BoardRejection, string> = {
  [BOARD_REJECTIONS.short]: "messages_rejected_short",
  [BOARD_REJECTIONS.version]: "messages_rejected_version",
  [BOARD_REJECTIONS.kind]: "messages_rejected_unknown_kind",
  [BOARD_REJECTIONS.length]: "messages_rejected_bad_length",
};

/**
 * Decodes board messages into one reusable batch and, once per event-loop turn (or when full), hands it to the
 * listeners and publishes it as a page of the `packets` stream while a run is on. Bad parity is kept and counted
 * (`packets_bad_parity`), garbage messages are counted by reason and logged at a bounded rate; nothing is fatal.
 * Pages waiting for slow subscribers beyond `maxPendingPages` are dropped and counted, never silently.
 */
export class PacketReceiver {
  private batch: LarpixPacketBatch;
  /** Published batches are carved from shared slabs: one ArrayBuffer per page costs more than decoding it. */
  private readonly slab = new ByteSlab();
  private stream: StreamFactory | undefined;
  private flushScheduled = false;
  private readonly pages: PagePublisher;
  private readonly listeners = new Set<PacketListener>();
  private readonly limiter = new RateLimiter(5, 10_000);
  private readonly counts = {
    messages: 0,
    messages_data: 0,
    messages_timestamp: 0,
    messages_heartbeat: 0,
    packets: 0,
    packets_data: 0,
    packets_test: 0,
    packets_config_write: 0,
    packets_config_read: 0,
    packets_timestamp: 0,
    packets_bad_parity: 0,
    packets_outside_run: 0,
    pages: 0,
  };

  constructor(
    private readonly ctx: ComponentContext,
    private layout: PixelLayout,
    maxPendingPages: number,
    private readonly capacity: number,
  ) {
    this.batch = new LarpixPacketBatch(Math.min(capacity, MIN_BATCH));
    this.pages = new PagePublisher(ctx, maxPendingPages, "larpix: publishing packets");
  }

  /** Uses another pixel layout from the next page on. */
  setLayout(layout: PixelLayout): void {
    this.layout = layout;
  }

  /** Adds a listener (routines); returns its removal. */
  listen(fn: PacketListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Publishes pages into `stream` (a run began) or stops publishing (undefined). */
  setStream(stream: StreamFactory | undefined): void {
    this.flush();
    this.stream = stream;
  }

  /** One message from board `board` (io group `ioGroup`). Never throws. */
  onMessage(msg: Buffer, board: string, ioGroup: number): void {
    this.counts.messages++;
    this.ctx.counters.inc(`board_${board}_messages`);
    this.schedule();
    const info = readBoardMessage(msg);
    switch (info.kind) {
      case "data": {
        this.counts.messages_data++;
        let done = 0;
        while (done < info.packets) {
          if (this.batch.free === 0) this.flush();
          const o = 8 + 8 * done;
          done += decodeWords(
            msg,
            o,
            info.packets - done,
            8,
            { ioGroup, ioChannel: info.ioChannel },
            this.batch,
          );
        }
        this.ctx.counters.inc(`board_${board}_packets`, info.packets);
        return;
      }
      case "timestamp":
        this.counts.messages_timestamp++;
        if (this.batch.free === 0) this.flush();
        this.batch.pushTimestamp(info.time, ioGroup);
        return;
      case "heartbeat":
        this.counts.messages_heartbeat++;
        this.ctx.counters.inc(`board_${board}_heartbeats`);
        return;
      case "rejected":
        this.ctx.counters.inc(REJECTED[info.reason]);
        if (this.limiter.take()) {
          this.ctx.log.warn(`larpix: rejected a message from board '${board}': ${info.detail}`, {
            board,
            reason: info.reason,
            suppressedBefore: this.limiter.suppressed,
          });
          this.limiter.suppressed = 0;
        }
        return;
    }
  }

  /** Records packets sent to the chips (direction 0) as 7-byte packets back to back. */
  recordSent(packed: Uint8Array, count: number, ioGroup: number, ioChannel: number): void {
    let done = 0;
    while (done < count) {
      if (this.batch.free === 0) this.flush();
      done += decodeWords(
        packed,
        7 * done,
        count - done,
        7,
        { ioGroup, ioChannel, direction: 0 },
        this.batch,
      );
    }
    this.schedule();
  }

  /** Publishes what is batched and resolves once every page has been handed to the bus's subscribers. */
  async drain(): Promise<void> {
    this.flush();
    await this.pages.drain();
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  /** Counts the batch, gives it to the listeners, publishes it (in a run) and empties it. */
  private flush = (): void => {
    this.flushScheduled = false;
    const b = this.batch;
    const n = b.n;
    if (n > 0) {
      const c = this.counts;
      c.packets += n;
      for (let i = 0; i < n; i++) {
        const t = b.type[i]!;
        if (t === 0) c.packets_data++;
        else if (t === 1) c.packets_test++;
        else if (t === 2) c.packets_config_write++;
        else if (t === 3) c.packets_config_read++;
        else c.packets_timestamp++;
        if (t < 4 && b.validParity[i] === 0) c.packets_bad_parity++;
      }
      for (const fn of this.listeners) {
        try {
          fn(b);
        } catch (err) {
          this.ctx.log.error(`larpix: a packet listener failed: ${String(err)}`);
        }
      }
      if (this.stream && this.publish(this.stream, b)) {
        // The page owns the batch's memory now: the next one is sized after this one (fewer, fuller pages at
        // high rates; small allocations at low rates).
        const next = Math.min(this.capacity, Math.max(MIN_BATCH, 2 ** Math.ceil(Math.log2(2 * n))));
        this.batch = new LarpixPacketBatch(next, this.slab.take(LarpixPacketBatch.bytesFor(next)));
      } else {
        if (!this.stream) c.packets_outside_run += n;
        b.clear();
      }
    }
    const counters = this.ctx.counters;
    for (const k of Object.keys(this.counts) as (keyof typeof this.counts)[]) {
      if (this.counts[k] !== 0) {
        counters.inc(k, this.counts[k]);
        this.counts[k] = 0;
      }
    }
  };

  /** Publishes the batch as a page; false when it was dropped (too many pages pending). */
  private publish(stream: StreamFactory, b: LarpixPacketBatch): boolean {
    if (this.pages.full) {
      this.ctx.counters.inc("packets_dropped_backpressure", b.n);
      return false;
    }
    const page = stream.page(new Float64Array(b.n).fill(nowSec()), packetColumns(b, this.layout));
    this.counts.pages++;
    this.pages.publish(page);
    return true;
  }
}
