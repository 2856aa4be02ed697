// The `target-c-source` component: CHEC-S slow-signal datagrams over UDP -> validated, decoded readout pages on the bus.
import type { RemoteInfo } from "node:dgram";
import { z } from "zod";
import {
  ANY_NONZERO_TIMESTAMP,
  ReadoutBatch,
  TARGET_C_MAX_READOUTS,
  TARGET_C_PIXELS,
  TARGET_C_READOUT_BYTES,
  datagramLengthProblem,
  decodeReadouts,
  type TimestampBounds,
} from "../../codecs/index.js";
import { defineComponent, type ComponentContext, type ComponentHooks } from "../../component/index.js";
import { RateLimiter, nd, type FieldSpec, type StreamFactory } from "../../core/index.js";
import { ModuleMapSchema, moduleResolver } from "./module-map.js";
import { ModuleTracker } from "./module-tracker.js";
import { ByteSlab } from "../../core/index.js";
import { UdpReceiver } from "./udp-receiver.js";

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

/** Reasons a datagram or readout is rejected; counted as `rejected_<reason>`. */
export const TARGET_C_REJECTIONS = {
  badLength: "datagrams_bad_length",
  unknownSource: "datagrams_unknown_source",
  badTimestamp: "readouts_bad_timestamp",
} as const;

/** The receive path of one bound socket: validate, decode into a reused batch, publish pages. */
class Receiver {
  running = false;
  private stream: StreamFactory | undefined;
  private moduleOf: (address: string) => number;
  private tracker: ModuleTracker;
  private readonly batch: ReadoutBatch;
  private readonly slab = new ByteSlab();
  private flushScheduled = false;
  /** Counted per datagram in plain numbers; `flush` adds them to ctx.counters once per event-loop turn. */
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
    this.batch = new ReadoutBatch(p.batchReadouts);
    this.moduleOf = moduleResolver(p.moduleMap, p.modules);
    this.tracker = new ModuleTracker(p.modules, ctx.counters, p.readoutPeriodNs);
  }

  /** Takes new params that need no rebinding (module map, checks, stream). */
  update(p: TargetCSourceParams): void {
    this.flush();
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
    this.flush();
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
      if (count > this.batch.free) this.publishBatch();
      const start = this.batch.n;
      const appended = decodeReadouts(msg, module, this.batch, this.timestampBounds());
      this.counts.readouts += appended;
      this.tracker.observe(module, this.batch.timestampNs, start, start + appended);
      if (appended < count) {
        const why = `timestamp outside ${this.describeBounds()}`;
        this.reject(TARGET_C_REJECTIONS.badTimestamp, from, why, count - appended);
      }
      if (this.batch.free < TARGET_C_MAX_READOUTS) this.publishBatch();
    } catch (err) {
      this.ctx.counters.inc("internal_errors");
      if (this.limiter.take()) {
        this.ctx.log.error(`target-c source: datagram from ${from.address} failed: ${String(err)}`);
      }
    }
  };

  /** Once per turn of the event loop: publishes the batch and copies the counts into ctx.counters. */
  private flush = (): void => {
    this.flushScheduled = false;
    this.publishBatch();
    const c = this.ctx.counters;
    for (const k of Object.keys(this.counts) as (keyof typeof this.counts)[]) {
      const v = this.counts[k];
      if (v !== 0) {
        c.inc(k, v);
        this.counts[k] = 0;
      }
    }
    this.tracker.sync();
  };

  /** Publishes the batch as one page (copies, so the batch is reused at once). */
  private publishBatch(): void {
    const b = this.batch;
    const n = b.n;
    if (n === 0 || !this.stream) return;
    b.clear();
    if (this.pendingPages >= this.p.maxPendingPages) {
      this.ctx.counters.inc("readouts_dropped_backpressure", n);
      return;
    }
    // columns carved from a shared slab (one ArrayBuffer per page made V8 mark-compact every ~50 ms)
    const P = TARGET_C_PIXELS;
    const { buffer: buf, offset: base } = this.slab.take(n * (8 + 8 + 8 + 4 * P + 2));
    const time = new Float64Array(buf, base, n).fill(Date.now() / 1000);
    const ts = new BigUint64Array(buf, base + 8 * n, n);
    const aux = new BigUint64Array(buf, base + 16 * n, n);
    const data = new Float32Array(buf, base + 24 * n, n * P);
    const module = new Uint16Array(buf, base + (24 + 4 * P) * n, n);
    ts.set(b.timestampNs.subarray(0, n));
    aux.set(b.auxTimestampNs.subarray(0, n));
    data.set(b.mv.subarray(0, n * P));
    module.set(b.module.subarray(0, n));
    const page = this.stream.page(time, {
      module: nd(module),
      timestamp: nd(ts),
      aux_timestamp: nd(aux),
      data: nd(data, [n, P]),
    });
    this.counts.pages++;
    this.pendingPages++;
    this.ctx.bus
      .publish(page)
      .catch((err: unknown) => this.ctx.fail("target-c source: publishing readouts failed", err))
      .finally(() => {
        if (--this.pendingPages === 0) for (const w of this.drained.splice(0)) w();
      });
  }

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
