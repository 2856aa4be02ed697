// The `target-c-source` component: CHEC-S slow-signal datagrams over UDP -> validated, decoded readout pages on the bus.
import type { RemoteInfo } from "node:dgram";
import { z } from "zod";
import {
  ANY_NONZERO_TIMESTAMP,
  TARGET_C_MAX_READOUTS,
  TARGET_C_PIXELS,
  TARGET_C_READOUT_BYTES,
  datagramLengthProblem,
  decodeReadouts,
  type TimestampBounds,
} from "../../codecs/index.js";
import { defineComponent, type ComponentContext, type ComponentHooks } from "../../component/index.js";
import { RateLimiter, type FieldSpec, type StreamFactory } from "../../core/index.js";
import { ModuleMapSchema, moduleResolver } from "./module-map.js";
import { ModuleTracker } from "./module-tracker.js";
import { UdpReceiver } from "./udp-receiver.js";
import { ReadoutPage } from "./readout-page.js";

/** Params of the TARGET-C source (instrument file `params:`). */
export const TargetCSourceParamsSchema = z.object({
  host: z.string().default("0.0.0.0").describe("address to bind"),
  port: z.number().int().min(0).max(65535).default(17000).describe("UDP port (SSDAQ used 2009, later 17000)"),
  recvBufferBytes: z
    .number()
    .int()
    .min(65536)
    .default(8 * 1024 * 1024),
  modules: z.number().int().min(1).max(1000).default(32),
  moduleMap: ModuleMapSchema,
  maxClockSkewMs: z
    .number()
    .positive()
    .nullable()
    .default(3_600_000)
    .describe(
      "readouts whose unix-ns timestamps are further than this from the host clock are impossible; null: only 0 is",
    ),
  readoutPeriodNs: z.number().positive().optional().describe("for gap counting; default: learned per module"),
  stream: z.string().default("readouts"),
  batchReadouts: z.number().int().min(TARGET_C_MAX_READOUTS).default(2048).describe("rows per page at most"),
  minPageIntervalMs: z
    .number()
    .min(0)
    .default(0)
    .describe(
      "while datagrams keep coming, publish at most one page per this interval: fewer, larger pages (less CPU at moderate rates) for up to this much more latency; 0: a page every event-loop turn",
    ),
  maxPendingPages: z
    .number()
    .int()
    .min(1)
    .default(64)
    .describe("pages awaiting slow subscribers before dropping"),
});
/** Params of the TARGET-C source. */
export type TargetCSourceParams = z.infer<typeof TargetCSourceParamsSchema>;

/** The fields of a readout page: one row per readout. */
export const TARGET_C_READOUT_FIELDS = {
  module: { dtype: "uint16", shape: [], description: "module index from the source address" },
  timestamp: { dtype: "uint64", shape: [], units: "ns" },
  aux_timestamp: { dtype: "uint64", shape: [], units: "ns" },
  data: { dtype: "float32", shape: [TARGET_C_PIXELS], units: "mV" },
} as const satisfies Record<string, FieldSpec>;

/** Longest delay (ms) between a datagram and its counts showing in the component's counters. */
const COUNTER_SYNC_MS = 20;

/** Reasons a datagram or readout is rejected; counted as `rejected_<reason>`. */
export const TARGET_C_REJECTIONS = {
  badLength: "datagrams_bad_length",
  unknownSource: "datagrams_unknown_source",
  badTimestamp: "readouts_bad_timestamp",
} as const;

/** The receive path of one bound socket: validate, decode in place into the next page, publish pages. */
class Receiver {
  running = false;
  private stream: StreamFactory | undefined;
  private moduleOf: (address: string) => number;
  private tracker: ModuleTracker;
  private readonly page: ReadoutPage;
  private flushScheduled = false;
  private syncTimer: NodeJS.Timeout | undefined;
  /** Publishes the page once minPageIntervalMs have passed since the last one. */
  private pageTimer: NodeJS.Timeout | undefined;
  private lastPublishMs = -Infinity;
  /** Counted per datagram in plain numbers; `syncCounts` adds them to ctx.counters every COUNTER_SYNC_MS. */
  private readonly counts = { datagrams: 0, bytes: 0, datagrams_outside_run: 0, readouts: 0, pages: 0 };
  private pendingPages = 0;
  /** Resolved when every published page has been handed to the bus's subscribers. */
  private drained: (() => void)[] = [];
  private bounds: TimestampBounds = ANY_NONZERO_TIMESTAMP;
  private boundsAtMs = -Infinity;
  /** Log limits per rejection reason (so a flood of one kind cannot hide another) and for internal errors. */
  private readonly limiters = new Map<string, RateLimiter>();
  private readonly limiter = new RateLimiter(5, 10_000);

  constructor(
    private p: TargetCSourceParams,
    private readonly ctx: ComponentContext,
  ) {
    this.page = new ReadoutPage(p.batchReadouts);
    this.moduleOf = moduleResolver(p.moduleMap, p.modules);
    this.tracker = new ModuleTracker(p.modules, ctx.counters, p.readoutPeriodNs);
  }

  /** Takes new params that need no rebinding (module map, checks, stream). */
  update(p: TargetCSourceParams): void {
    this.publishNow();
    this.syncCounts();
    this.p = p;
    this.moduleOf = moduleResolver(p.moduleMap, p.modules);
    this.tracker = new ModuleTracker(p.modules, this.ctx.counters, p.readoutPeriodNs);
  }

  async begin(): Promise<void> {
    this.tracker.reset();
    this.stream = this.ctx.stream(this.p.stream, TARGET_C_READOUT_FIELDS, {
      configuration: { modules: this.p.modules, moduleMap: this.p.moduleMap, port: this.p.port },
    });
    await this.ctx.bus.publish(this.stream.descriptor);
    this.running = true;
  }

  /** Stops taking datagrams, publishes what is batched and waits for every page to be handed over. */
  async end(): Promise<void> {
    this.running = false;
    this.publishNow();
    this.syncCounts();
    if (this.pendingPages > 0) await new Promise<void>((r) => this.drained.push(r));
    this.stream = undefined;
  }

  onMessage = (msg: Buffer, from: RemoteInfo): void => {
    this.counts.datagrams++;
    this.counts.bytes += msg.byteLength;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
    if (!this.running) {
      this.counts.datagrams_outside_run++;
      return;
    }
    try {
      const problem = datagramLengthProblem(msg.byteLength);
      if (problem) return this.reject(TARGET_C_REJECTIONS.badLength, from, problem, 1);
      const module = this.moduleOf(from.address);
      if (module < 0) {
        return this.reject(TARGET_C_REJECTIONS.unknownSource, from, `${from.address} is not a module`, 1);
      }
      const count = msg.byteLength / TARGET_C_READOUT_BYTES;
      const page = this.page;
      if (!page.fits(count)) {
        this.publishBatch();
        page.open(count);
      }
      const start = page.n;
      const appended = decodeReadouts(msg, module, page, this.timestampBounds());
      this.counts.readouts += appended;
      this.tracker.observe(module, page.tsWords, start, start + appended);
      if (appended < count) {
        const why = `timestamp outside ${this.describeBounds()}`;
        this.reject(TARGET_C_REJECTIONS.badTimestamp, from, why, count - appended);
      }
      if (page.n > page.limit - TARGET_C_MAX_READOUTS) this.publishBatch();
    } catch (err) {
      this.ctx.counters.inc("internal_errors");
      if (this.limiter.take()) {
        this.ctx.log.error(`target-c source: datagram from ${from.address} failed: ${String(err)}`);
      }
    }
  };

  /**
   * At the end of a turn of the event loop: publishes the page, unless one went out less than minPageIntervalMs
   * ago; then a timer publishes it when the interval is over. A lone datagram is published at once; under a
   * steady stream the per-page costs (page, bus, builder, subscribers) are shared by every datagram of the
   * interval instead of the one or two a turn holds. The counts follow within COUNTER_SYNC_MS.
   */
  private flush = (): void => {
    this.flushScheduled = false;
    if (this.page.n > 0 && !this.pageTimer) {
      const waitMs = this.lastPublishMs + this.p.minPageIntervalMs - performance.now();
      if (waitMs <= 0) this.publishNow();
      else this.pageTimer = setTimeout(this.publishNow, Math.ceil(waitMs));
    }
    this.syncTimer ??= setTimeout(this.syncCounts, COUNTER_SYNC_MS);
  };

  /** Publishes the page now (timer, end of run). */
  private publishNow = (): void => {
    clearTimeout(this.pageTimer);
    this.pageTimer = undefined;
    this.publishBatch();
  };

  /**
   * Copies the counts (global and per module, together, so they agree) into ctx.counters. Not per turn: at
   * 10^4 datagrams/s the 64 per-module counter updates of each turn cost as much as decoding.
   */
  private syncCounts = (): void => {
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    const c = this.ctx.counters;
    const k = this.counts;
    if (k.datagrams !== 0) c.inc("datagrams", k.datagrams);
    if (k.bytes !== 0) c.inc("bytes", k.bytes);
    if (k.datagrams_outside_run !== 0) c.inc("datagrams_outside_run", k.datagrams_outside_run);
    if (k.readouts !== 0) c.inc("readouts", k.readouts);
    if (k.pages !== 0) c.inc("pages", k.pages);
    k.datagrams = k.bytes = k.datagrams_outside_run = k.readouts = k.pages = 0;
    this.tracker.sync();
  };

  /** Publishes the rows decoded so far as one page (written in place: no copy). */
  private publishBatch(): void {
    const pg = this.page;
    const n = pg.n;
    if (n === 0 || !this.stream) return;
    if (this.pendingPages >= this.p.maxPendingPages) {
      pg.discard();
      this.ctx.counters.inc("readouts_dropped_backpressure", n);
      return;
    }
    this.lastPublishMs = performance.now();
    const cols = pg.seal(Date.now() / 1000);
    // NdArrays made directly (dtypes and shapes are known here): nd() would check each one again
    const page = this.stream.page(cols.time, {
      module: { dtype: "uint16", shape: [n], data: cols.module },
      timestamp: { dtype: "uint64", shape: [n], data: cols.timestamp },
      aux_timestamp: { dtype: "uint64", shape: [n], data: cols.auxTimestamp },
      data: { dtype: "float32", shape: [n, TARGET_C_PIXELS], data: cols.data },
    });
    this.counts.pages++;
    this.pendingPages++;
    this.ctx.bus.publish(page).then(this.published, this.publishFailed);
  }

  private published = (): void => {
    if (--this.pendingPages === 0) for (const w of this.drained.splice(0)) w();
  };

  private publishFailed = (err: unknown): void => {
    this.ctx.fail("target-c source: publishing readouts failed", err);
    this.published();
  };

  private timestampBounds(): TimestampBounds {
    const skew = this.p.maxClockSkewMs;
    if (skew === null) return ANY_NONZERO_TIMESTAMP;
    const now = Date.now();
    if (now - this.boundsAtMs > 100) {
      this.boundsAtMs = now;
      this.bounds = { minNs: Math.max(1, (now - skew) * 1e6), maxNs: (now + skew) * 1e6 };
    }
    return this.bounds;
  }

  private describeBounds(): string {
    const skew = this.p.maxClockSkewMs;
    return skew === null ? "1..2^64-1 ns" : `host clock +-${skew} ms (maxClockSkewMs)`;
  }

  private reject(reason: string, from: RemoteInfo, detail: string, n: number): void {
    this.ctx.counters.inc(`rejected_${reason}`, n);
    let limiter = this.limiters.get(reason);
    if (!limiter) this.limiters.set(reason, (limiter = new RateLimiter(5, 10_000)));
    if (limiter.take()) {
      this.ctx.log.warn(
        `target-c source: rejected ${reason.replace(/_/g, " ")} from ${from.address}: ${detail}`,
        {
          reason,
          address: from.address,
          count: n,
          suppressedBefore: this.limiter.suppressed,
        },
      );
      this.limiter.suppressed = 0;
    }
  }
}

/**
 * The CHEC-S slow-signal source: binds UDP at configure, and during a run publishes the `readouts` stream (module,
 * timestamp, aux_timestamp, data f32[64] mV per row) in pages. Bad lengths, unknown sources and impossible
 * timestamps are counted by reason and logged at a bounded rate; the source never stops on bad input.
 * @example components: [{ name: tm, type: target-c-source, params: { port: 17000, modules: 32 } }]
 */
export const targetCSourceComponent = defineComponent<TargetCSourceParams>({
  type: "target-c-source",
  description: "CHEC-S TARGET-C slow-signal readouts over UDP",
  role: "source",
  params: TargetCSourceParamsSchema,
  create(params, ctx): ComponentHooks {
    let p = params;
    let rx: UdpReceiver | undefined;
    let recv: Receiver | undefined;
    const bind = async () => {
      if (rx && recv) return;
      recv = new Receiver(p, ctx);
      const r = recv;
      rx = await UdpReceiver.open({
        host: p.host,
        port: p.port,
        recvBufferBytes: p.recvBufferBytes,
        onMessage: r.onMessage,
        onError: (err) => ctx.fail(`target-c source: UDP socket on ${p.host}:${p.port} failed`, err),
        log: ctx.log,
      });
      ctx.counters.set("recv_buffer_bytes", rx.recvBufferBytes);
      ctx.counters.set("port", rx.port);
    };
    const unbind = async () => {
      const r = rx;
      rx = undefined;
      recv = undefined;
      await r?.close();
    };
    return {
      async configure(config) {
        const next = TargetCSourceParamsSchema.parse(config);
        const rebind =
          next.host !== p.host ||
          next.port !== p.port ||
          next.recvBufferBytes !== p.recvBufferBytes ||
          next.batchReadouts !== p.batchReadouts;
        p = next;
        if (rebind) await unbind();
        await bind();
        recv!.update(p);
      },
      async start() {
        await bind();
        await recv!.begin();
      },
      async stop() {
        await recv?.end();
      },
      async reset() {
        await recv?.end();
      },
      async close() {
        await recv?.end();
        await unbind();
      },
    };
  },
});
