// Running-average stage: elementwise mean of a field over the run or the last N events (images), centre of mass.
import { z } from "zod";
import {
  ErrorCode,
  HutchError,
  RunningArrayStats,
  WindowedArrayMean,
  centreOfMass,
  nd,
  type FieldSpec,
} from "../core/index.js";
import { defineComponent, type ActionDef } from "../component/index.js";
import { clearAction } from "./bin-by-node.js";
import type { InputBatch } from "./input-batch.js";
import { CutSchema, MaskBuffer, StageParamsSchema, applyCuts, type Cut } from "./stage-params.js";
import { stageHooks, type StageLogic, type StageOutput } from "./stage-runner.js";

/** Params of the running-average stage. */
export const AverageParamsSchema = StageParamsSchema.extend({
  field: z.string().min(1, "field: name the field to average"),
  frames: z
    .number()
    .int()
    .min(1, "frames must be >= 1")
    .optional()
    .describe("average the last N events (e.g. 10 images); without it, every event since the run began"),
  withStd: z
    .boolean()
    .default(false)
    .describe("also publish the elementwise standard deviation (run average only)"),
  outputDtype: z.enum(["float32", "float64"]).default("float32").describe("dtype of the published mean"),
  centreOfMass: z.boolean().default(false).describe("2-D fields: publish com_x, com_y of the mean"),
  comThreshold: z
    .number()
    .optional()
    .describe("pixels of the mean below this are left out of the centre of mass"),
  cuts: z.array(CutSchema).default([]),
}).refine((p) => !(p.withStd && p.frames !== undefined), {
  message: "withStd is only available for the run average (no frames)",
  path: ["withStd"],
});
/** Params of the running-average stage. */
export type AverageParams = z.infer<typeof AverageParamsSchema>;

/** The running-average logic of one run. */
export class AverageLogic implements StageLogic {
  private shape: readonly number[] | undefined;
  private run: RunningArrayStats | undefined;
  private window: WindowedArrayMean | undefined;
  private readonly cuts: readonly Cut[];
  private readonly masks = new MaskBuffer();
  private changed = false;

  constructor(private readonly p: AverageParams) {
    this.cuts = p.cuts;
  }

  fields(): Record<string, FieldSpec> | undefined {
    const shape = this.shape;
    if (!shape) return undefined;
    const f: Record<string, FieldSpec> = {
      mean: {
        dtype: this.p.outputDtype,
        shape: [...shape],
        description: this.p.frames ? `mean of the last ${this.p.frames} events` : "mean since the run began",
      },
      count: { dtype: "float64", shape: [], description: "events in the average" },
    };
    if (this.p.withStd)
      f.std = { dtype: this.p.outputDtype, shape: [...shape], description: "sample std per element" };
    if (this.p.centreOfMass) {
      f.com_x = {
        dtype: "float64",
        shape: [],
        units: "pixel",
        description: "centre of mass, x (pixel centres at +0.5)",
      };
      f.com_y = { dtype: "float64", shape: [], units: "pixel" };
    }
    return f;
  }

  process(batch: InputBatch): void {
    const col = batch.column(this.p.field);
    if (!col) return;
    this.ensure(col.shape, col.dtype);
    let mask: Uint8Array | undefined;
    if (this.cuts.length > 0) {
      mask = this.masks.get(batch.n);
      applyCuts(batch, this.cuts, mask);
    }
    for (let i = 0; i < batch.n; i++) {
      if (mask && !mask[i]) continue;
      if (this.window) this.window.add(col.data, i * col.size);
      else this.run!.add(col.data, i * col.size);
      this.changed = true;
    }
  }

  /** Forgets the frames averaged so far. */
  clear(): void {
    this.run?.reset();
    this.window?.reset();
    this.changed = true;
  }

  output(final: boolean): StageOutput | undefined {
    if (!this.shape || (!this.changed && !final)) return undefined;
    this.changed = false;
    const mean64 = this.window ? this.window.mean() : this.run!.mean.slice();
    const count = this.window ? this.window.count : this.run!.count;
    const toOut = (a: Float64Array) => (this.p.outputDtype === "float32" ? Float32Array.from(a) : a);
    const data: Record<string, unknown> = { mean: nd(toOut(mean64), this.shape), count };
    if (this.p.withStd) {
      const v = this.run!.variance();
      for (let i = 0; i < v.length; i++) v[i] = Math.sqrt(v[i]!);
      data.std = nd(toOut(v), this.shape);
    }
    if (this.p.centreOfMass) {
      const [h, w] = this.shape as [number, number];
      const c =
        count > 0 ? centreOfMass(mean64, w, h, { threshold: this.p.comThreshold }) : { x: NaN, y: NaN };
      data.com_x = c.x;
      data.com_y = c.y;
    }
    return { event: { data: data as NonNullable<StageOutput["event"]>["data"] } };
  }

  private ensure(shape: readonly number[], dtype: string): void {
    if (this.shape) {
      if (shape.length !== this.shape.length || shape.some((s, i) => s !== this.shape![i])) {
        throw new HutchError(
          ErrorCode.Validation,
          `'${this.p.field}' changed shape from [${this.shape.join(",")}] to [${shape.join(",")}] within a run`,
        );
      }
      return;
    }
    if (this.p.centreOfMass && shape.length !== 2) {
      throw new HutchError(
        ErrorCode.Validation,
        `centreOfMass needs a 2-D field; '${this.p.field}' has shape [${shape.join(",")}]`,
      );
    }
    const size = shape.reduce((a, b) => a * b, 1);
    // Frames that float32 holds exactly (float32 and up to 16-bit integers) are kept at half the memory.
    const exact32 = ["float32", "uint16", "int16", "uint8", "int8", "bool"].includes(dtype);
    if (this.p.frames)
      this.window = new WindowedArrayMean(size, this.p.frames, exact32 ? "float32" : "float64");
    else this.run = new RunningArrayStats(size, { withVariance: this.p.withStd });
    this.shape = [...shape];
  }
}

/**
 * Elementwise mean of a field (scalar, waveform or image) since the run began (Welford, exact at any count) or
 * over the last `frames` events, published as `mean` and `count`, optionally `std` and the centre of mass
 * (`com_x`, `com_y`) of 2-D means. Action `clear` restarts the average.
 * @example { type: running-average, params: { input: mpccd, field: frame, frames: 10, centreOfMass: true } }
 */
export const averageNode = defineComponent<AverageParams>({
  type: "running-average",
  description: "elementwise running mean (run or last N events), centre of mass",
  params: AverageParamsSchema,
  create: (params, ctx) =>
    stageHooks(
      params,
      ctx,
      (p) => new AverageLogic(p),
      (stage) => ({ clear: clearAction(stage) as ActionDef<never> }),
    ),
});
