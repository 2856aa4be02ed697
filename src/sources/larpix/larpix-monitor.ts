// The `larpix-monitor` stage: the last N packets and messages of a run, published for the page and given to operators.
import { z } from "zod";
import { defineComponent, type ComponentContext, type ComponentHooks } from "../../component/index.js";
import { nd, nowSec, type FieldSpec, type RunInfo, type StreamFactory } from "../../core/index.js";
import type { Subscription } from "../../transport/index.js";

const StreamName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/, "a stream name: letters, digits, '_', '.', '-' only");

/** Params of the LArPix monitor. */
export const LarpixMonitorParamsSchema = z.strictObject({
  input: StreamName.default("packets").describe("the packets stream"),
  messages: StreamName.default("messages").describe("the run messages stream"),
  output: StreamName.default("recent_packets").describe("stream of the last packets (arrays of `keep`)"),
  keep: z.number().int().min(1).max(100_000).default(100).describe("packets and messages kept"),
  publishIntervalMs: z.number().int().min(50).default(1000),
  capacity: z.number().int().min(1).default(256).describe("input queue (documents); the oldest are dropped"),
});
/** Params after defaults. */
export type LarpixMonitorParams = z.output<typeof LarpixMonitorParamsSchema>;

/** The packet columns the monitor keeps, with their typed-array makers. */
const KEPT = {
  io_group: Uint8Array,
  io_channel: Uint8Array,
  chip_id: Uint8Array,
  type: Uint8Array,
  channel: Uint8Array,
  adc: Uint16Array,
  valid_parity: Uint8Array,
  pixel: Int32Array,
  timestamp: Float64Array,
  time: Float64Array,
} as const;
type Kept = keyof typeof KEPT;

/** Ring buffers of the last `keep` packets (columns) and messages. */
class Recent {
  readonly cols: { [K in Kept]: InstanceType<(typeof KEPT)[K]> };
  private head = 0;
  count = 0;
  readonly messages: { time: number; message: string }[] = [];

  constructor(readonly keep: number) {
    this.cols = Object.fromEntries(Object.entries(KEPT).map(([k, C]) => [k, new C(keep)])) as Recent["cols"];
  }

  addPage(
    data: Record<string, { data: ArrayLike<number | bigint> }>,
    time: ArrayLike<number>,
    n: number,
  ): void {
    // Only the last `keep` rows of a page can survive.
    for (let i = Math.max(0, n - this.keep); i < n; i++) {
      const at = this.head;
      for (const k of Object.keys(KEPT) as Kept[]) {
        const src = k === "time" ? time[i] : data[k]?.data[i];
        this.cols[k][at] = src === undefined ? (k === "pixel" ? -1 : 0) : Number(src);
      }
      this.head = (this.head + 1) % this.keep;
      this.count = Math.min(this.keep, this.count + 1);
    }
  }

  addMessage(time: number, message: string): void {
    this.messages.push({ time, message });
    if (this.messages.length > this.keep) this.messages.splice(0, this.messages.length - this.keep);
  }

  /** Index of the i-th oldest kept packet. */
  at(i: number): number {
    return (this.head - this.count + i + this.keep) % this.keep;
  }

  /** Columns oldest first, `count` long. */
  ordered(): Record<Kept, InstanceType<(typeof KEPT)[Kept]>> {
    const out = {} as Record<Kept, InstanceType<(typeof KEPT)[Kept]>>;
    for (const k of Object.keys(KEPT) as Kept[]) {
      const a = new KEPT[k](this.count) as InstanceType<(typeof KEPT)[Kept]>;
      for (let i = 0; i < this.count; i++) a[i] = this.cols[k][this.at(i)]!;
      out[k] = a;
    }
    return out;
  }
}

function fieldsFor(keep: number): Record<string, FieldSpec> {
  const f: Record<string, FieldSpec> = {
    n: { dtype: "uint32", shape: [], description: "packets kept so far" },
  };
  for (const [k, C] of Object.entries(KEPT)) {
    const dtype =
      C === Uint8Array ? "uint8" : C === Uint16Array ? "uint16" : C === Int32Array ? "int32" : "float64";
    f[k] = { dtype, shape: [keep], description: `last ${keep} packets, oldest first (zero-padded)` };
  }
  return f;
}

async function createHooks(initial: LarpixMonitorParams, ctx: ComponentContext): Promise<ComponentHooks> {
  let p = initial;
  let recent = new Recent(p.keep);
  let subs: Subscription[] = [];
  let loops: Promise<void>[] = [];
  let timer: NodeJS.Timeout | undefined;
  let out: StreamFactory | undefined;
  let runUid: string | undefined;

  const consume = async (sub: Subscription) => {
    for await (const { doc } of sub) {
      ctx.counters.set(
        "skipped",
        subs.reduce((s, x) => s + x.stats.dropped, 0),
      );
      if ((doc.kind !== "event" && doc.kind !== "event-page") || doc.runUid !== runUid) continue;
      if (doc.kind === "event-page" && doc.stream === p.input) {
        recent.addPage(doc.data, doc.time.data as Float64Array, doc.n);
        ctx.counters.inc("received", doc.n);
      } else if (doc.kind === "event" && doc.stream === p.messages && typeof doc.data.message === "string") {
        recent.addMessage(doc.time, doc.data.message);
        ctx.counters.inc("messages");
      }
    }
  };
  const publish = async () => {
    if (!out) return;
    const cols = recent.ordered();
    const data: Record<string, ReturnType<typeof nd> | number> = { n: recent.count };
    for (const [k, a] of Object.entries(cols)) {
      const full = new (a.constructor as new (n: number) => typeof a)(p.keep);
      full.set(a as never);
      data[k] = nd(full);
    }
    await ctx.bus.publish(out.event(data, nowSec()));
    ctx.counters.inc("published");
  };
  const stopRun = async () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    for (const s of subs) s.close();
    await Promise.all(loops);
    subs = [];
    loops = [];
  };

  return {
    configure(config) {
      p = config as LarpixMonitorParams;
    },
    async start(run: RunInfo) {
      recent = new Recent(p.keep);
      runUid = run.uid;
      out = ctx.stream(p.output, fieldsFor(p.keep), {
        configuration: { input: p.input, messages: p.messages },
      });
      await ctx.bus.publish(out.descriptor);
      for (const s of [p.input, p.messages]) {
        const sub = ctx.bus.subscribe({
          prefix: `${ctx.instrument}/${s}/`,
          overflow: "drop-oldest",
          capacity: p.capacity,
          name: `${ctx.name}:${s}`,
        });
        subs.push(sub);
        loops.push(consume(sub));
      }
      timer = setInterval(
        () => void publish().catch((e: unknown) => ctx.fail("larpix-monitor: publish failed", e)),
        p.publishIntervalMs,
      );
    },
    async stop() {
      await stopRun();
      await publish();
      out = undefined;
    },
    async reset() {
      await stopRun();
      out = undefined;
    },
    actions: {
      recent: {
        description: "the last packets (rows, oldest first) and messages of the run",
        params: z.strictObject({ last: z.number().int().min(1).optional() }),
        run(a: { last?: number }) {
          const cols = recent.ordered();
          const n = Math.min(recent.count, a.last ?? recent.count);
          const rows = [];
          for (let i = recent.count - n; i < recent.count; i++) {
            const r: Record<string, number> = {};
            for (const k of Object.keys(cols) as Kept[]) r[k] = cols[k][i]!;
            rows.push(r);
          }
          return { packets: rows, messages: recent.messages.slice(-(a.last ?? recent.keep)) };
        },
      },
    } as unknown as ComponentHooks["actions"],
    close: () => stopRun(),
  };
}

/**
 * The LArPix-specific part of the online monitor: keeps the last `keep` (100) packets and run messages; publishes
 * the packets as arrays on `output` every `publishIntervalMs`, and answers the `recent` action with rows. Rates,
 * per-pixel rates and the ADC histogram come from the shared `rate` and `histogram` stages.
 * @example { name: recent, type: larpix-monitor, params: { input: packets, keep: 100 } }
 */
export const larpixMonitorComponent = defineComponent<LarpixMonitorParams>({
  type: "larpix-monitor",
  description: "last N LArPix packets and run messages",
  params: LarpixMonitorParamsSchema as unknown as z.ZodType<LarpixMonitorParams>,
  create: (params, ctx) => createHooks(params, ctx),
});
