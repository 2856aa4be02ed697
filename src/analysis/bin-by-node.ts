// Bin-by stage: a profile of y versus binned x (ROI/I0 vs delay) with mean, error of the mean and counts per bin.
import { z } from "zod";
import { Profile, nd, type FieldSpec } from "../core/index.js";
import { defineComponent, type ActionDef } from "../component/index.js";
import type { InputBatch } from "./input-batch.js";
import { CutSchema, MaskBuffer, StageParamsSchema, applyCuts, type Cut } from "./stage-params.js";
import { stageHooks, type Stage, type StageLogic, type StageOutput } from "./stage-runner.js";

/** Params of the bin-by stage. */
export const BinByParamsSchema = StageParamsSchema.extend({
  x: z.string().min(1, "x: name the field to bin by"),
  y: z.string().min(1, "y: name the field to average"),
  bins: z.number().int().min(1, "bins must be >= 1").max(1_000_000).default(40),
  range: z
    .tuple([z.number(), z.number()])
    .refine(([lo, hi]) => hi > lo, "range must be [lo, hi] with lo < hi")
    .default([-2, 3])
    .describe("range of the transformed x"),
  xScale: z.number().default(1).describe("x is transformed to x * xScale + xOffset before binning"),
  xOffset: z
    .number()
    .default(0)
    .describe("e.g. delay = position * 6.666e-3 - t0: xScale 6.666e-3, xOffset -t0"),
  cuts: z.array(CutSchema).default([]),
});
/** Params of the bin-by stage. */
export type BinByParams = z.infer<typeof BinByParamsSchema>;

/** The bin-by logic of one run. */
export class BinByLogic implements StageLogic {
  readonly profile: Profile;
  private readonly cuts: readonly Cut[];
  private readonly masks = new MaskBuffer();
  private xs = new Float64Array(0);
  private changed = false;

  constructor(private readonly p: BinByParams) {
    this.profile = new Profile({ bins: p.bins, lo: p.range[0], hi: p.range[1] });
    this.cuts = p.cuts;
  }

  fields(): Record<string, FieldSpec> {
    const n = this.p.bins;
    const arr = (description: string): FieldSpec => ({ dtype: "float64", shape: [n], description });
    return {
      centres: arr(`bin centres of ${this.p.x} * ${this.p.xScale} + ${this.p.xOffset}`),
      counts: arr("entries per bin"),
      mean: arr(`mean of ${this.p.y} per bin (NaN when empty)`),
      sem: arr("standard error of the mean per bin (NaN with < 2 entries)"),
      std: arr("standard deviation per bin"),
      entries: { dtype: "float64", shape: [], description: "entries in range" },
      outside: { dtype: "float64", shape: [], description: "entries outside the range or not finite" },
    };
  }

  process(batch: InputBatch): void {
    const x = batch.scalar(this.p.x);
    const y = batch.scalar(this.p.y);
    if (!x || !y) return;
    const n = batch.n;
    let mask: Uint8Array | undefined;
    if (this.cuts.length > 0) {
      mask = this.masks.get(n);
      if (applyCuts(batch, this.cuts, mask) === 0) return;
    }
    if (this.xs.length < n) this.xs = new Float64Array(n);
    for (let i = 0; i < n; i++) this.xs[i] = x[i]! * this.p.xScale + this.p.xOffset;
    this.profile.fill(this.xs.subarray(0, n), y, { mask });
    this.changed = true;
  }

  /** Forgets everything binned so far in this run. */
  clear(): void {
    this.profile.reset();
    this.changed = true;
  }

  output(final: boolean): StageOutput | undefined {
    if (!this.changed && !final) return undefined;
    this.changed = false;
    const r = this.profile.result();
    let entries = 0;
    for (const c of r.counts) entries += c;
    const pr = this.profile;
    return {
      event: {
        data: {
          centres: nd(r.centres),
          counts: nd(r.counts),
          mean: nd(r.mean),
          sem: nd(r.sem),
          std: nd(r.std),
          entries,
          outside: pr.underflow + pr.overflow + pr.invalid,
        },
      },
    };
  }
}

/** The `clear` action shared by accumulating stages: forgets what the current run accumulated. */
export function clearAction<P extends z.infer<typeof StageParamsSchema>>(
  stage: Stage<P>,
): ActionDef<object, { cleared: boolean }> {
  return {
    description: "forget what this run accumulated so far",
    params: z.object({}),
    async run() {
      const logic = stage.runner.logic as { clear?: () => void } | undefined;
      if (!logic?.clear) return { cleared: false };
      logic.clear();
      await stage.runner.publishNow();
      return { cleared: true };
    },
  };
}

/**
 * Profile of `y` versus binned `x * xScale + xOffset` over the run: per bin centres, counts, mean, error of the
 * mean and spread, published as one event per interval; action `clear` restarts it.
 * @example { type: bin-by, params: { input: norm, x: delay_motor, y: roi1_over_i0, bins: 40, range: [-2, 3],
 *   xScale: 6.666e-3, xOffset: -12.3 } }
 */
export const binByNode = defineComponent<BinByParams>({
  type: "bin-by",
  description: "profile: mean of y in bins of x, with errors",
  params: BinByParamsSchema,
  create: (params, ctx) =>
    stageHooks(
      params,
      ctx,
      (p) => new BinByLogic(p),
      (stage) => ({ clear: clearAction(stage) as ActionDef<never> }),
    ),
});
