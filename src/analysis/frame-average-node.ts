// Averaged images over the last N frames, computed when published: frames are held by reference, no work per frame.
import { z } from "zod";
import {
  ErrorCode,
  HutchError,
  centreOfMass,
  nd,
  shapeSize,
  type Event,
  type FieldSpec,
} from "../core/index.js";
import { defineComponent, type ActionDef } from "../component/index.js";
import { clearAction } from "./bin-by-node.js";
import type { InputBatch } from "./input-batch.js";
import { CutSchema, MaskBuffer, StageParamsSchema, applyCuts, type Cut } from "./stage-params.js";
import { stageHooks, type StageLogic, type StageOutput } from "./stage-runner.js";

/** Params of the frame-average stage. */
export const FrameAverageParamsSchema = StageParamsSchema.extend({
  field: z.string().min(1, "field: name the image field to average"),
  frames: z.number().int().min(1, "frames must be >= 1").max(10_000).default(10).describe("frames averaged"),
  centreOfMass: z.boolean().default(true).describe("2-D fields: publish com_x, com_y of the mean (pixels)"),
  comThreshold: z
    .number()
    .optional()
    .describe("pixels of the mean below this are left out of the centre of mass"),
  outputDtype: z.enum(["float32", "float64"]).default("float32"),
  cuts: z
    .array(CutSchema)
    .default([])
    .describe("only frames passing these are averaged (e.g. beam_status > 0)"),
});
/** Params of the frame-average stage. */
export type FrameAverageParams = z.infer<typeof FrameAverageParamsSchema>;

/** The frame-average logic of one run: a ring of references to the newest frames. */
export class FrameAverageLogic implements StageLogic {
  private shape: readonly number[] | undefined;
  private size = 0;
  private readonly ring: { data: ArrayLike<number>; offset: number }[] = [];
  private next = 0;
  private readonly cuts: readonly Cut[];
  private readonly masks = new MaskBuffer();
  private changed = false;
  private sum = new Float64Array(0);

  constructor(private readonly p: FrameAverageParams) {
    this.cuts = p.cuts;
  }

  fields(): Record<string, FieldSpec> | undefined {
    if (!this.shape) return undefined;
    const f: Record<string, FieldSpec> = {
      mean: {
        dtype: this.p.outputDtype,
        shape: [...this.shape],
        description: `mean of the last ${this.p.frames} frames`,
      },
      count: { dtype: "float64", shape: [], description: "frames in the mean" },
    };
    if (this.p.centreOfMass && this.shape.length === 2) {
      f.com_x = {
        dtype: "float64",
        shape: [],
        units: "pixel",
        description: "centre of mass, x (pixel centres at +0.5)",
      };
      f.com_y = { dtype: "float64", shape: [], units: "pixel", description: "centre of mass, y" };
    }
    return f;
  }

  process(batch: InputBatch): void {
    const col = batch.column(this.p.field);
    if (!col) return;
    this.ensure(col.shape);
    let mask: Uint8Array | undefined;
    if (this.cuts.length > 0) {
      mask = this.masks.get(batch.n);
      if (applyCuts(batch, this.cuts, mask) === 0) return;
    }
    // Documents are immutable (nobody writes to a published array), so holding a reference is safe and free.
    for (let i = 0; i < batch.n; i++) {
      if (mask && !mask[i]) continue;
      const entry = { data: col.data, offset: i * col.size };
      if (this.ring.length < this.p.frames) this.ring.push(entry);
      else this.ring[this.next] = entry;
      this.next = (this.next + 1) % this.p.frames;
      this.changed = true;
    }
  }

  /** Forgets the frames held. */
  clear(): void {
    this.ring.length = 0;
    this.next = 0;
    this.changed = true;
  }

  output(final: boolean): StageOutput | undefined {
    if (!this.shape || (!this.changed && !final)) return undefined;
    this.changed = false;
    const n = this.ring.length;
    const sum = this.sum;
    sum.fill(0);
    for (const { data, offset } of this.ring) addFrame(sum, data, offset);
    const inv = n > 0 ? 1 / n : 0;
    const mean = this.p.outputDtype === "float32" ? new Float32Array(this.size) : new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) mean[i] = sum[i]! * inv;
    const data: Event["data"] = { mean: nd(mean, this.shape), count: n };
    if (this.p.centreOfMass && this.shape.length === 2) {
      const [h, w] = this.shape as [number, number];
      const c = n > 0 ? centreOfMass(mean, w, h, { threshold: this.p.comThreshold }) : { x: NaN, y: NaN };
      data.com_x = c.x;
      data.com_y = c.y;
    }
    return { event: { data } };
  }

  private ensure(shape: readonly number[]): void {
    if (this.shape) {
      if (shape.length !== this.shape.length || shape.some((s, i) => s !== this.shape![i])) {
        throw new HutchError(
          ErrorCode.Validation,
          `'${this.p.field}' changed shape from [${this.shape.join(",")}] to [${shape.join(",")}] within a run`,
        );
      }
      return;
    }
    this.shape = [...shape];
    this.size = shapeSize(shape);
    this.sum = new Float64Array(this.size);
  }
}

/** sum += data[offset .. offset + sum.length), one loop per array type (monomorphic: about 1 ns a pixel). */
function addFrame(sum: Float64Array, data: ArrayLike<number>, offset: number): void {
  const n = sum.length;
  if (data instanceof Float32Array) {
    const src = data.subarray(offset, offset + n);
    for (let i = 0; i < n; i++) sum[i] = sum[i]! + src[i]!;
  } else if (data instanceof Float64Array) {
    const src = data.subarray(offset, offset + n);
    for (let i = 0; i < n; i++) sum[i] = sum[i]! + src[i]!;
  } else {
    for (let i = 0; i < n; i++) sum[i] = sum[i]! + data[offset + i]!;
  }
}

/**
 * The mean of the last `frames` events of an image (or any array) field, published as `mean`, `count` and the
 * centre of mass (`com_x`, `com_y`) of 2-D means. Frames are kept by reference and summed only when a result is
 * published: frames x pixels once per publish (10 frames once a second) instead of a window update for every
 * frame (30 a second), and nothing at all on the data path. Cuts select the frames (shots with beam). Action
 * `clear` restarts it.
 * @example { type: frame-average, params: { input: mpccd1, field: frame, frames: 10, cuts: [{ field: beam_status, gt: 0 }] } }
 */
export const frameAverageNode = defineComponent<FrameAverageParams>({
  type: "frame-average",
  description: "mean of the last N frames (held by reference, summed when published), centre of mass",
  params: FrameAverageParamsSchema,
  create: (params, ctx) =>
    stageHooks(
      params,
      ctx,
      (p) => new FrameAverageLogic(p),
      (stage) => ({ clear: clearAction(stage) as ActionDef<never> }),
    ),
});
