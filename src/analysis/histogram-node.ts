// Histogram stage: fills a fixed, windowed or auto-binned histogram from a field and publishes counts and edges.
import { z } from "zod";
import { AutoHistogram, Histogram, RunningStats, nd, type FieldSpec } from "../core/index.js";
import { defineComponent } from "../component/index.js";
import type { InputBatch } from "./input-batch.js";
import { CutSchema, MaskBuffer, StageParamsSchema, applyCuts, type Cut } from "./stage-params.js";
import { stageHooks, type StageLogic, type StageOutput } from "./stage-runner.js";

/** Params of the histogram stage. */
export const HistogramParamsSchema = StageParamsSchema.extend({
  field: z.string().min(1, "field: name the field to histogram"),
  bins: z.number().int().min(1, "bins must be >= 1").max(1_000_000).default(100),
  range: z
    .tuple([z.number(), z.number()])
    .refine(([lo, hi]) => hi > lo, "range must be [lo, hi] with lo < hi")
    .optional()
    .describe("fixed bins over [lo, hi); without it the range is set by the data and extends as needed"),
  integer: z.boolean().default(false).describe("auto bins only: integer data (ADC), edges at k - 0.5"),
  window: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("fixed bins only: histogram of the last N values (e.g. last 1000 ADC values)"),
  cuts: z.array(CutSchema).default([]),
})
  .refine((p) => p.range !== undefined || p.bins % 2 === 0, {
    message: "auto-binned histograms (no range) need an even number of bins",
    path: ["bins"],
  })
  .refine((p) => p.window === undefined || p.range !== undefined, {
    message: "window needs a fixed range",
    path: ["window"],
  });
/** Params of the histogram stage. */
export type HistogramParams = z.infer<typeof HistogramParamsSchema>;

/** The histogram logic of one run. */
export class HistogramLogic implements StageLogic {
  private readonly fixed: Histogram | undefined;
  private readonly auto: AutoHistogram | undefined;
  private readonly stats = new RunningStats();
  private readonly masks = new MaskBuffer();
  private readonly valueMasks = new MaskBuffer();
  private readonly cuts: readonly Cut[];
  private changed = false;

  constructor(private readonly p: HistogramParams) {
    const { bins, range } = p;
    if (range) this.fixed = new Histogram({ bins, lo: range[0], hi: range[1], window: p.window });
    else this.auto = new AutoHistogram({ bins, integer: p.integer });
    this.cuts = p.cuts;
  }

  fields(): Record<string, FieldSpec> {
    const n = this.p.bins;
    const scalar = (description: string): FieldSpec => ({ dtype: "float64", shape: [], description });
    return {
      counts: { dtype: "float64", shape: [n], description: `histogram of '${this.p.field}'` },
      edges: { dtype: "float64", shape: [n + 1], description: "bin edges" },
      entries: scalar("values in the histogram, including under/overflow"),
      underflow: scalar("values below the range"),
      overflow: scalar("values at or above the range"),
      mean: scalar("mean of the values"),
      rms: scalar("standard deviation of the values"),
    };
  }

  process(batch: InputBatch): void {
    const col = batch.column(this.p.field);
    if (!col) return;
    const end = batch.n * col.size;
    const h = this.fixed ?? this.auto!;
    if (this.cuts.length === 0) {
      h.fill(col.data, { end });
      if (!this.p.window) this.stats.addBatch(col.data, undefined, 0, end);
    } else {
      const mask = this.masks.get(batch.n);
      applyCuts(batch, this.cuts, mask);
      // One event may hold several values (a waveform): widen the event mask to every value of the event.
      const m = col.size === 1 ? mask : this.valueMask(mask, batch.n, col.size);
      h.fill(col.data, { mask: m, end });
      if (!this.p.window) this.stats.addBatch(col.data, m, 0, end);
    }
    this.changed = true;
  }

  private valueMask(events: Uint8Array, n: number, size: number): Uint8Array {
    const m = this.valueMasks.get(n * size);
    for (let i = 0; i < n; i++) m.fill(events[i]!, i * size, (i + 1) * size);
    return m;
  }

  output(final: boolean): StageOutput | undefined {
    if (!this.changed && !final) return undefined;
    this.changed = false;
    const f = this.fixed;
    const a = this.auto;
    const counts = (f ?? a!).counts.slice();
    const edges = (f ?? a!).edges();
    const windowed = f && this.p.window !== undefined;
    return {
      event: {
        data: {
          counts: nd(counts),
          edges: nd(edges),
          entries: f ? f.entries : a!.entries,
          underflow: f ? f.underflow : 0,
          overflow: f ? f.overflow : 0,
          mean: windowed ? f.mean : this.stats.mean,
          rms: windowed ? f.rms : Math.sqrt(this.stats.m2 / this.stats.count || 0),
        },
      },
    };
  }
}

/**
 * Histogram of a field of an input stream (every value of array fields), published as one event per interval:
 * `counts`, `edges`, `entries`, `underflow`, `overflow`, `mean`, `rms`. Fixed bins with `range`, the last N values
 * with `window`, otherwise auto bins that extend without losing entries.
 * @example { type: histogram, params: { input: packets, field: adc, bins: 256, range: [0, 1024], window: 1000 } }
 */
export const histogramNode = defineComponent<HistogramParams>({
  type: "histogram",
  description: "histogram of a field (fixed, last-N or auto bins)",
  params: HistogramParamsSchema,
  create: (params, ctx) => stageHooks(params, ctx, (p) => new HistogramLogic(p)),
});
