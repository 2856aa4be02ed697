// Rate stage: events per second of a stream, since run start, a per-second history, optionally per key (pixel).
import { z } from "zod";
import { KeyedRate, RateMeter, nd, nowSec, type FieldSpec, type RunInfo } from "../core/index.js";
import { defineComponent } from "../component/index.js";
import type { InputBatch } from "./input-batch.js";
import { StageParamsSchema } from "./stage-params.js";
import { stageHooks, type StageLogic, type StageOutput } from "./stage-runner.js";

/** Params of the rate stage. */
export const RateParamsSchema = StageParamsSchema.extend({
  timeBase: z
    .enum(["arrival", "event"], { message: "timeBase must be 'arrival' or 'event'" })
    .default("arrival")
    .describe("count events when they arrive (wall clock) or at their own event times"),
  historySec: z.number().int().min(1).max(86_400).default(100).describe("seconds of per-second history"),
  windowSec: z.number().int().min(1).default(1).describe("complete seconds averaged for `rate`"),
  perKey: z
    .object({
      field: z.string().min(1),
      keys: z.number().int().min(1, "perKey.keys must be >= 1").max(10_000_000),
    })
    .optional()
    .describe("also rates per integer key (e.g. pixel id 0..831) and their maximum"),
}).refine((p) => p.windowSec <= p.historySec, {
  message: "windowSec must not exceed historySec",
  path: ["windowSec"],
});
/** Params of the rate stage. */
export type RateParams = z.infer<typeof RateParamsSchema>;

/** The rate logic of one run. */
export class RateLogic implements StageLogic {
  private readonly meter: RateMeter;
  private readonly keyed: KeyedRate | undefined;
  private startSec: number;
  private newest = -Infinity;
  private changed = false;

  constructor(
    private readonly p: RateParams,
    private readonly now: () => number = nowSec,
  ) {
    this.meter = new RateMeter({ historySec: p.historySec, windowSec: p.windowSec });
    if (p.perKey) this.keyed = new KeyedRate(p.perKey.keys, p.windowSec);
    this.startSec = p.timeBase === "arrival" ? now() : NaN;
  }

  fields(): Record<string, FieldSpec> {
    const f: Record<string, FieldSpec> = {
      rate: {
        dtype: "float64",
        shape: [],
        units: "Hz",
        description: `mean over the last ${this.p.windowSec} s`,
      },
      total: { dtype: "float64", shape: [], description: "events since the run began" },
      mean_rate: {
        dtype: "float64",
        shape: [],
        units: "Hz",
        description: "total / time since the run began",
      },
      history: {
        dtype: "float64",
        shape: [this.p.historySec],
        units: "events/s",
        description: "oldest first",
      },
      history_start: { dtype: "float64", shape: [], units: "s", description: "unix time of history[0]" },
    };
    if (this.p.perKey) {
      f.key_rate = {
        dtype: "float64",
        shape: [this.p.perKey.keys],
        units: "Hz",
        description: `per ${this.p.perKey.field}`,
      };
      f.key_rate_max = { dtype: "float64", shape: [], units: "Hz", description: "highest per-key rate" };
    }
    return f;
  }

  process(batch: InputBatch): void {
    const keys = this.p.perKey ? batch.scalar(this.p.perKey.field) : undefined;
    if (this.p.timeBase === "arrival") {
      const t = this.now();
      this.meter.add(t, batch.n);
      if (keys) this.keyed!.add(keys, t);
    } else {
      this.meter.addTimes(batch.time, 0, batch.n);
      if (keys) this.keyed!.add(keys, batch.time);
      for (let i = 0; i < batch.n; i++) if (batch.time[i]! > this.newest) this.newest = batch.time[i]!;
      if (Number.isNaN(this.startSec) && batch.n > 0) this.startSec = this.meter.firstTimeSec;
    }
    this.changed = true;
  }

  output(final: boolean): StageOutput | undefined {
    // With event times nothing moves between events; with arrival times the rate decays while idle.
    if (this.p.timeBase === "event" && !this.changed && !final) return undefined;
    if (this.p.timeBase === "event" && !Number.isFinite(this.newest)) return undefined;
    this.changed = false;
    // Event time base: "now" is the newest event time; its second may still fill, so it is not in `rate`.
    const t = this.p.timeBase === "arrival" ? this.now() : this.newest;
    const data: Record<string, unknown> = {
      rate: this.meter.rate(t),
      total: this.meter.total,
      mean_rate: this.meter.meanRate(this.startSec, this.p.timeBase === "arrival" ? t : this.newest),
      history: nd(this.meter.history(t)),
      history_start: this.meter.historyStartSec(t),
    };
    if (this.keyed) {
      const r = this.keyed.rates(t);
      let max = 0;
      for (const v of r) if (v > max) max = v;
      data.key_rate = nd(r);
      data.key_rate_max = max;
    }
    return { event: { data: data as NonNullable<StageOutput["event"]>["data"], time: t } };
  }
}

/**
 * Event rate of a stream: `rate` over the last complete seconds, `total`, `mean_rate` since run start, a
 * per-second `history` (100 s by default), and with `perKey` the rate of each key (pixel) and the maximum.
 * @example { type: rate, params: { input: packets, perKey: { field: pixel, keys: 832 } } }
 */
export const rateNode = defineComponent<RateParams>({
  type: "rate",
  description: "event rate, per-second history, per-key rates",
  params: RateParamsSchema,
  create: (params, ctx) => stageHooks(params, ctx, (p: RateParams, _run: RunInfo) => new RateLogic(p)),
});
