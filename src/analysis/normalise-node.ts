// Normalise stage: one field divided by another per event (ROI / I0), with cuts and carried fields, as pages.
import { z } from "zod";
import type { FieldSpec } from "../core/index.js";
import { defineComponent } from "../component/index.js";
import type { InputBatch } from "./input-batch.js";
import { RowBuffer } from "./row-buffer.js";
import { CutSchema, MaskBuffer, StageParamsSchema, applyCuts, type Cut } from "./stage-params.js";
import { stageHooks, type StageLogic, type StageOutput } from "./stage-runner.js";

/** Params of the normalise stage. */
export const NormaliseParamsSchema = StageParamsSchema.extend({
  field: z.string().min(1, "field: name the numerator field"),
  by: z.string().min(1, "by: name the field to divide by"),
  as: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "as: a field name")
    .optional()
    .describe("output field name (default `<field>_over_<by>`)"),
  minAbsDenominator: z
    .number()
    .nonnegative()
    .default(0)
    .describe("events with |by| <= this are rejected (counted), never divided"),
  carry: z.array(z.string().min(1)).default([]),
  cuts: z.array(CutSchema).default([]),
});
/** Params of the normalise stage. */
export type NormaliseParams = z.infer<typeof NormaliseParamsSchema>;

/** The normalise logic of one run. */
export class NormaliseLogic implements StageLogic {
  private readonly out: string;
  private readonly rows: RowBuffer;
  private readonly cuts: readonly Cut[];
  private readonly masks = new MaskBuffer();
  private ratio = new Float64Array(0);
  /** Events rejected by the cuts or the denominator test. */
  rejected = 0;

  constructor(private readonly p: NormaliseParams) {
    this.out = p.as ?? `${p.field}_over_${p.by}`;
    this.cuts = p.cuts;
    this.rows = new RowBuffer([this.out, ...p.carry]);
  }

  fields(): Record<string, FieldSpec> {
    const f: Record<string, FieldSpec> = {
      [this.out]: { dtype: "float64", shape: [], description: `${this.p.field} / ${this.p.by}` },
    };
    for (const c of this.p.carry) f[c] = { dtype: "float64", shape: [], source: `${this.p.input}.${c}` };
    return f;
  }

  process(batch: InputBatch): void {
    const num = batch.scalar(this.p.field);
    const den = batch.scalar(this.p.by);
    const values: Record<string, ArrayLike<number>> = {};
    for (const c of this.p.carry) {
      const v = batch.scalar(c);
      if (v) values[c] = v;
    }
    if (!num || !den) return;
    const n = batch.n;
    const mask = this.masks.get(n);
    applyCuts(batch, this.cuts, mask);
    if (this.ratio.length < n) this.ratio = new Float64Array(n);
    const min = this.p.minAbsDenominator;
    for (let i = 0; i < n; i++) {
      const d = den[i]!;
      if (!(Math.abs(d) > min)) mask[i] = 0; // also rejects NaN
      if (mask[i]) this.ratio[i] = num[i]! / d;
      else this.rejected++;
    }
    values[this.out] = this.ratio;
    this.rows.append(batch.time, values, n, mask);
  }

  output(): StageOutput | undefined {
    const page = this.rows.take();
    return page ? { page } : undefined;
  }
}

/**
 * `field / by` per event (e.g. ROI / I0), for events passing the cuts with |by| > minAbsDenominator, with
 * carried fields (delay, tag), published as pages.
 * @example { type: normalise, params: { input: rois, field: roi1, by: i0, carry: [delay],
 *   cuts: [{ field: beam_status, gt: 0 }, { field: i0, gt: 0.01 }] } }
 */
export const normaliseNode = defineComponent<NormaliseParams>({
  type: "normalise",
  description: "one field divided by another per event, with cuts",
  params: NormaliseParamsSchema,
  create: (params, ctx) =>
    stageHooks(params, ctx, (p) => {
      const logic = new NormaliseLogic(p);
      return {
        fields: () => logic.fields(),
        process: (b) => {
          const before = logic.rejected;
          logic.process(b);
          ctx.counters.inc("rejected", logic.rejected - before);
        },
        output: () => logic.output(),
      };
    }),
});
