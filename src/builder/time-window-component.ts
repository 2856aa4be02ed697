// The `time-window-builder` component: taps a readout stream on the bus, builds events by time, publishes event pages.
import { z } from "zod";
import type { ComponentContext, ComponentHooks } from "../component/index.js";
import { defineComponent } from "../component/index.js";
import {
  ErrorCode,
  HutchError,
  RateLimiter,
  type Document,
  type EventPage,
  type FieldSpec,
  type NdArray,
  type RunInfo,
  type StreamFactory,
  type TypedArray,
} from "../core/index.js";
import type { BusMessage } from "../transport/index.js";
import { ByteSlab } from "../core/index.js";
import { HI, LO } from "./event-columns.js";
import {
  TimeWindowBuilder,
  type BuiltEvents,
  type RowFieldSpec,
  type TimeWindowStats,
} from "./time-window-builder.js";

/** Params of the time-window builder (instrument file `params:`). */
export const TimeWindowParamsSchema = z
  .object({
    input: z.string().default("readouts").describe("stream of readout pages to build from"),
    output: z.string().default("events").describe("stream the built events are published on"),
    moduleField: z.string().default("module").describe("integer field: module index 0..modules-1"),
    timeField: z.string().default("timestamp").describe("uint64 field: readout time in ns"),
    modules: z.number().int().min(1).max(4096),
    expectedModules: z
      .array(z.number().int().min(0))
      .optional()
      .describe("modules a complete event needs; default all"),
    windowNs: z
      .number()
      .nonnegative()
      .describe("a readout joins an event within +-windowNs of its first readout"),
    timeoutMs: z
      .number()
      .positive()
      .default(200)
      .describe("partial events are emitted this long after their first readout"),
    maxOpenEvents: z.number().int().min(1).default(256),
    recentEvents: z.number().int().min(1).default(64),
    maxPendingEvents: z
      .number()
      .int()
      .min(1)
      .default(100_000)
      .describe("built events waiting for slow subscribers; past it they are dropped and counted"),
  })
  .superRefine((p, ctx) => {
    for (const m of p.expectedModules ?? []) {
      if (m >= p.modules) {
        ctx.addIssue({
          code: "custom",
          path: ["expectedModules"],
          message: `module ${m} is outside 0..${p.modules - 1}`,
        });
      }
    }
  });
/** Params of the time-window builder. */
export type TimeWindowParams = z.infer<typeof TimeWindowParamsSchema>;

const STAT_NAMES: Record<keyof TimeWindowStats, string> = {
  readouts: "readouts",
  events: "events",
  complete: "events_complete",
  partial: "events_partial",
  late: "late",
  duplicates: "duplicates",
  collisions: "collisions",
  invalidModule: "invalid_module",
  overflow: "overflow",
  open: "open_events",
};

/** Longest delay (ms) between a page and its counts showing in the component's counters. */
const COUNTER_SYNC_MS = 20;

/** One run of the builder: the layout comes from the first readout page of the run. */
class BuildRun {
  private builder: TimeWindowBuilder | undefined;
  private stream: StreamFactory | undefined;
  private rowFields: RowFieldSpec[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Counters are copied from the builder's stats at most every COUNTER_SYNC_MS (not per page). */
  private counterTimer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private pendingEvents = 0;
  /** Publications not yet settled. */
  private inFlight = 0;
  private last: Partial<TimeWindowStats> = {};
  private readonly limiter = new RateLimiter(5, 10_000);
  private readonly slab = new ByteSlab();

  constructor(
    private readonly p: TimeWindowParams,
    private readonly ctx: ComponentContext,
    private readonly run: RunInfo,
  ) {}

  /** Called synchronously by the bus tap for each readout page. */
  onPage(page: EventPage): void {
    if (page.runUid !== this.run.uid) {
      this.ctx.counters.inc("pages_other_run");
      return;
    }
    try {
      this.builder ??= this.makeBuilder(page);
      this.builder.push(this.rowsOf(page));
      this.drain();
    } catch (err) {
      this.ctx.counters.inc("pages_invalid");
      if (this.limiter.take()) {
        this.ctx.log.warn(
          `time-window builder: dropped a '${this.p.input}' page: ${(err as Error).message}`,
          {
            suppressed: this.limiter.suppressed,
          },
        );
        this.limiter.suppressed = 0;
      }
    }
  }

  /** Emits every open event and waits until all pages are published. */
  async finish(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.builder) {
      this.builder.flush();
      this.drain();
      this.syncCounters(this.builder.stats);
    }
    await this.chain;
  }

  /** Stops the timer without publishing (shutdown). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.counterTimer);
    this.counterTimer = undefined;
  }

  private makeBuilder(page: EventPage): TimeWindowBuilder {
    const { moduleField, timeField } = this.p;
    const mod = page.data[moduleField];
    const time = page.data[timeField];
    if (!mod || !/^u?int/.test(mod.dtype) || mod.dtype.endsWith("64")) {
      throw bad(
        `field '${moduleField}' must be an integer array of up to 32 bits, got ${mod?.dtype ?? "none"}`,
      );
    }
    if (!time || (time.dtype !== "uint64" && time.dtype !== "int64")) {
      throw bad(`field '${timeField}' must be uint64 or int64 ns, got ${time?.dtype ?? "none"}`);
    }
    const M = this.p.modules;
    this.rowFields = [];
    const out: Record<string, FieldSpec> = {
      event_number: { dtype: "uint64", shape: [], description: "event number in the run, from 1" },
      run_number: { dtype: "uint64", shape: [] },
      timestamp: { dtype: "uint64", shape: [], units: "ns", description: "earliest module timestamp" },
      complete: { dtype: "uint8", shape: [], description: "1 when every expected module is present" },
      n_modules: { dtype: "uint16", shape: [], description: "modules present" },
      module_mask: { dtype: "uint8", shape: [M], description: "1 where the module is present" },
      [`module_${timeField}`]: { dtype: "uint64", shape: [M], units: "ns", description: "0 where absent" },
    };
    for (const [name, a] of Object.entries(page.data)) {
      if (name === moduleField || name === timeField) continue;
      if (name in out) throw bad(`input field '${name}' clashes with an event field`);
      this.rowFields.push({ name, dtype: a.dtype, rowShape: a.shape.slice(1) });
      out[name] = {
        dtype: a.dtype,
        shape: [M, ...a.shape.slice(1)],
        description: "per module; NaN or 0 where absent",
      };
    }
    const builder = new TimeWindowBuilder({
      modules: M,
      expectedModules: this.p.expectedModules,
      windowNs: this.p.windowNs,
      timeoutMs: this.p.timeoutMs,
      maxOpenEvents: this.p.maxOpenEvents,
      recentEvents: this.p.recentEvents,
      fields: this.rowFields,
    });
    this.stream = this.ctx.stream(this.p.output, out, {
      configuration: { windowNs: this.p.windowNs, timeoutMs: this.p.timeoutMs, input: this.p.input },
    });
    this.publish(this.stream.descriptor, 0);
    return builder;
  }

  private rowsOf(page: EventPage) {
    const fields: Record<string, TypedArray> = {};
    for (const f of this.rowFields) fields[f.name] = page.data[f.name]!.data;
    return {
      n: page.n,
      module: page.data[this.p.moduleField]!.data as ArrayLike<number>,
      timeNs: page.data[this.p.timeField]!.data as BigUint64Array,
      fields,
    };
  }

  /** Publishes what the builder emitted, updates counters and re-arms the timeout timer. */
  private drain(): void {
    const b = this.builder!;
    const events = b.take();
    if (events) this.publishEvents(events);
    this.counterTimer ??= setTimeout(() => this.syncCounters(b.stats), COUNTER_SYNC_MS);
    const deadline = b.nextDeadlineMs();
    if (deadline !== undefined && !this.timer) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          b.poll();
          this.drain();
        },
        Math.max(1, deadline - Date.now()),
      );
    }
  }

  private publishEvents(e: BuiltEvents): void {
    const s = this.stream!;
    if (this.pendingEvents + e.n > this.p.maxPendingEvents) {
      this.ctx.counters.inc("events_dropped_backpressure", e.n);
      return;
    }
    const M = this.p.modules;
    const n = e.n;
    // the per-event columns carved from a shared slab (fewer backing stores for the GC to track)
    const { buffer: buf, offset: at } = this.slab.take(n * (8 + 8 + 8 + 2));
    const eventNumber = new BigUint64Array(buf, at, n);
    const runNumber = new BigUint64Array(buf, at + 8 * n, n);
    const time = new Float64Array(buf, at + 16 * n, n);
    const present = new Uint16Array(buf, at + 24 * n, n);
    // uint64 columns written as 32-bit words: no bigint per event
    const first = s.emitted + 1;
    const evW = new Uint32Array(buf, at, 2 * n);
    const runW = new Uint32Array(buf, at + 8 * n, 2 * n);
    const run = this.run.run;
    for (let i = 0; i < n; i++) {
      const v = first + i;
      evW[2 * i + LO] = v % 4294967296;
      evW[2 * i + HI] = Math.floor(v / 4294967296);
      runW[2 * i + LO] = run % 4294967296;
      runW[2 * i + HI] = Math.floor(run / 4294967296);
      time[i] = e.firstArrivalMs[i]! / 1000;
    }
    for (let i = 0, k = 0; i < n; i++) {
      let c = 0;
      for (let m = 0; m < M; m++, k++) c += e.mask[k]!;
      present[i] = c;
    }
    // NdArrays made directly (dtypes and shapes are known here): nd() would check each one again
    const data: Record<string, NdArray> = {
      event_number: { dtype: "uint64", shape: [n], data: eventNumber },
      run_number: { dtype: "uint64", shape: [n], data: runNumber },
      timestamp: { dtype: "uint64", shape: [n], data: e.timeNs },
      complete: { dtype: "uint8", shape: [n], data: e.complete },
      n_modules: { dtype: "uint16", shape: [n], data: present },
      module_mask: { dtype: "uint8", shape: [n, M], data: e.mask },
      [`module_${this.p.timeField}`]: { dtype: "uint64", shape: [n, M], data: e.moduleTimeNs },
    };
    for (const f of this.rowFields) {
      data[f.name] = { dtype: f.dtype, shape: [n, M, ...f.rowShape], data: e.fields[f.name]! };
    }
    this.publish(s.page(time, data), e.n);
  }

  /**
   * Publishes in order (one chain), so the descriptor precedes pages even when a subscriber blocks. When nothing
   * is in flight the bus is called at once (no extra promise hop per page).
   */
  private publish(doc: Document, events: number): void {
    this.pendingEvents += events;
    this.inFlight++;
    const done = () => {
      this.inFlight--;
      this.pendingEvents -= events;
    };
    const failed = (err: unknown) => {
      this.inFlight--;
      this.ctx.fail(`time-window builder: publishing '${this.p.output}' failed`, err);
    };
    this.chain =
      this.inFlight === 1
        ? this.ctx.bus.publish(doc).then(done, failed)
        : this.chain.then(() => this.ctx.bus.publish(doc)).then(done, failed);
  }

  private syncCounters(stats: TimeWindowStats): void {
    clearTimeout(this.counterTimer);
    this.counterTimer = undefined;
    for (const k of Object.keys(STAT_NAMES) as (keyof TimeWindowStats)[]) {
      const v = stats[k];
      if (k === "open") this.ctx.counters.set(STAT_NAMES[k], v);
      else if (v !== this.last[k]) this.ctx.counters.inc(STAT_NAMES[k], v - (this.last[k] ?? 0));
      this.last[k] = v;
    }
  }
}

/**
 * Event building by time window as a component (generic: any instrument whose readouts carry a module index
 * and a ns timestamp). Reads the `input` stream's pages through a synchronous bus tap (no queue, no copy) and
 * publishes the `output` stream: event_number, run_number, timestamp, complete, n_modules, module_mask,
 * module_<timeField> and every other input field with a leading module axis.
 * @example components: [{ name: builder, type: time-window-builder, params: { modules: 32, windowNs: 10000000 } }]
 */
export const timeWindowBuilderComponent = defineComponent<TimeWindowParams>({
  type: "time-window-builder",
  description: "builds events from per-module readouts by timestamp window; partial events after a timeout",
  role: "stage",
  params: TimeWindowParamsSchema,
  create(params, ctx): ComponentHooks {
    let p = params;
    let current: BuildRun | undefined;
    let untap: (() => void) | undefined;
    const stopTap = () => {
      untap?.();
      untap = undefined;
    };
    return {
      configure(config) {
        p = TimeWindowParamsSchema.parse(config);
      },
      start(run) {
        stopTap();
        const r = new BuildRun(p, ctx, run);
        current = r;
        untap = ctx.bus.tap(`${ctx.instrument}/${p.input}/event-page`, (m: BusMessage) => {
          if (m.doc.kind === "event-page") r.onPage(m.doc);
        });
      },
      async stop() {
        stopTap();
        const r = current;
        current = undefined;
        await r?.finish();
      },
      reset() {
        stopTap();
        current?.cancel();
        current = undefined;
      },
      close() {
        stopTap();
        current?.cancel();
        current = undefined;
      },
    };
  },
});

function bad(message: string): HutchError {
  return new HutchError(ErrorCode.Validation, `time-window builder: ${message}`);
}
