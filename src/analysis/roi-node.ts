// ROI-sum stage: per-event sums of rectangle/polygon regions of an image field, with gain and threshold; live set-roi.
import { z } from "zod";
import {
  ErrorCode,
  HutchError,
  roiMask,
  roiSumFrames,
  type FieldSpec,
  type Roi,
  type RoiMask,
} from "../core/index.js";
import { defineComponent, type ActionDef } from "../component/index.js";
import type { InputBatch } from "./input-batch.js";
import { RowBuffer } from "./row-buffer.js";
import { CutSchema, MaskBuffer, StageParamsSchema, applyCuts, type Cut } from "./stage-params.js";
import { stageHooks, type Stage, type StageLogic, type StageOutput } from "./stage-runner.js";

const FieldName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "a ROI name: a letter or '_', then letters, digits, '_'");

/** A region: `rect` (numpy `img[y0:y1, x0:x1]`) or `polygon` (pixel coordinates, >= 3 points). */
export const RoiSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("rect"), x0: z.number(), y0: z.number(), x1: z.number(), y1: z.number() }),
  z.object({
    kind: z.literal("polygon"),
    points: z.array(z.tuple([z.number(), z.number()])).min(3, "a polygon needs at least 3 points"),
  }),
]);

/** A named region; its sum is published as the output field `name`. */
export const NamedRoiSchema = z.intersection(z.object({ name: FieldName }), RoiSchema);
/** A named region. */
export type NamedRoi = z.infer<typeof NamedRoiSchema>;

/** Params of the ROI-sum stage. */
export const RoiParamsSchema = StageParamsSchema.extend({
  image: z.string().min(1, "image: name the field holding the frames"),
  rois: z
    .array(NamedRoiSchema)
    .default([])
    .refine((r) => new Set(r.map((x) => x.name)).size === r.length, "ROI names must be unique"),
  gain: z.number().positive("gain must be > 0").default(1).describe("each pixel is multiplied by gain first"),
  threshold: z.number().optional().describe("then pixels below threshold count as 0 (SACLA: 1000/3.65)"),
  carry: z
    .array(z.string().min(1))
    .default([])
    .describe("scalar fields copied to the output (I0, delay, tag)"),
  cuts: z.array(CutSchema).default([]),
});
/** Params of the ROI-sum stage. */
export type RoiParams = z.infer<typeof RoiParamsSchema>;

/** Params of the `set-roi` action: add or replace a ROI, or remove it with `roi: null`; gain/threshold too. */
export const SetRoiSchema = z.object({
  name: FieldName,
  roi: RoiSchema.nullable(),
  gain: z.number().positive().optional(),
  threshold: z.number().nullable().optional().describe("null removes the threshold"),
});
/** Params of the `set-roi` action. */
export type SetRoi = z.infer<typeof SetRoiSchema>;

/** The ROI logic of one run. */
export class RoiLogic implements StageLogic {
  private rois: NamedRoi[];
  private gain: number;
  private threshold: number | undefined;
  private masks: RoiMask[] = [];
  private maskKey = "";
  private readonly rows: RowBuffer;
  private readonly cuts: readonly Cut[];
  private readonly cutMask = new MaskBuffer();
  private sums: Float64Array[] = [];

  constructor(private readonly p: RoiParams) {
    this.rois = [...p.rois];
    this.gain = p.gain;
    this.threshold = p.threshold;
    this.cuts = p.cuts;
    this.rows = new RowBuffer(this.columnNames());
  }

  /** Replaces the ROIs, gain and threshold; rows already waiting get NaN for new ROIs. */
  update(rois: readonly NamedRoi[], gain: number, threshold: number | undefined): void {
    this.rois = [...rois];
    this.gain = gain;
    this.threshold = threshold;
    this.maskKey = "";
    this.rows.setColumns(this.columnNames());
  }

  fields(): Record<string, FieldSpec> {
    const f: Record<string, FieldSpec> = {};
    for (const r of this.rois) {
      f[r.name] = { dtype: "float64", shape: [], description: `sum of ${r.kind} ROI of '${this.p.image}'` };
    }
    for (const c of this.p.carry) f[c] = { dtype: "float64", shape: [], source: `${this.p.input}.${c}` };
    return f;
  }

  process(batch: InputBatch): void {
    const img = batch.column(this.p.image);
    const carried: Record<string, ArrayLike<number>> = {};
    for (const c of this.p.carry) {
      const v = batch.scalar(c);
      if (v) carried[c] = v;
    }
    if (!img) return;
    if (img.shape.length !== 2) {
      throw new HutchError(
        ErrorCode.Validation,
        `image '${this.p.image}' has shape [${img.shape.join(",")}] per event, expected [height, width]`,
      );
    }
    const [height, width] = img.shape as [number, number];
    this.ensureMasks(width, height);
    let mask: Uint8Array | undefined;
    if (this.cuts.length > 0) {
      mask = this.cutMask.get(batch.n);
      if (applyCuts(batch, this.cuts, mask) === 0) return;
    }
    const t = { gain: this.gain, threshold: this.threshold };
    const values: Record<string, ArrayLike<number>> = { ...carried };
    this.rois.forEach((r, k) => {
      const out =
        this.sums[k]!.length >= batch.n ? this.sums[k]! : (this.sums[k] = new Float64Array(batch.n));
      values[r.name] = roiSumFrames(img.data, batch.n, this.masks[k]!, t, out);
    });
    this.rows.append(batch.time, values, batch.n, mask);
  }

  output(): StageOutput | undefined {
    const page = this.rows.take();
    return page ? { page } : undefined;
  }

  private columnNames(): string[] {
    return [...this.rois.map((r) => r.name), ...this.p.carry];
  }

  private ensureMasks(width: number, height: number): void {
    const key = `${width}x${height}`;
    if (key === this.maskKey) return;
    this.masks = this.rois.map((r) => roiMask(r as Roi, width, height));
    this.sums = this.rois.map(() => new Float64Array(0));
    this.maskKey = key;
  }
}

function setRoiAction(
  stage: Stage<RoiParams>,
): ActionDef<SetRoi, { rois: NamedRoi[]; gain: number; threshold: number | null }> {
  return {
    description: "add, replace (roi) or remove (roi: null) a named ROI; optionally change gain and threshold",
    params: SetRoiSchema,
    async run(a) {
      const p = stage.params;
      const rois = p.rois.filter((r) => r.name !== a.name);
      if (a.roi) rois.push({ name: a.name, ...a.roi } as NamedRoi);
      const gain = a.gain ?? p.gain;
      const threshold = a.threshold === undefined ? p.threshold : (a.threshold ?? undefined);
      // Kept for the following runs of this process; the returned list is what run control records.
      stage.params = { ...p, rois, gain, threshold };
      const logic = stage.runner.logic as RoiLogic | undefined;
      if (logic) {
        await stage.runner.publishNow(); // rows computed with the old ROIs go out under the old descriptor
        logic.update(rois, gain, threshold);
      }
      return { rois, gain, threshold: threshold ?? null };
    },
  };
}

/**
 * Per-event sums of named ROIs of an image field (`[height, width]` per event), after gain and threshold, with
 * carried scalar fields, published as pages (one row per event that passes the cuts). The `set-roi` action
 * changes ROIs while running; the output stream then gets a new descriptor.
 * @example { type: roi-sum, params: { input: mpccd, image: frame, gain: 1, threshold: 273.97,
 *   rois: [{ name: roi1, kind: rect, x0: 100, y0: 200, x1: 150, y1: 260 }], carry: [i0, delay] } }
 */
export const roiNode = defineComponent<RoiParams>({
  type: "roi-sum",
  description: "sums of rectangle/polygon ROIs of images with gain and threshold",
  params: RoiParamsSchema,
  create: (params, ctx) =>
    stageHooks(
      params,
      ctx,
      (p) => new RoiLogic(p),
      (stage) => ({ "set-roi": setRoiAction(stage) as ActionDef<never> }),
    ),
});
