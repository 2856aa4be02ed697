// ROI sums in worker threads: receive, sum and publish are separate, so 512x1024 frames at 30 Hz never stall the loop.
import { z } from "zod";
import {
  ErrorCode,
  HutchError,
  RateLimiter,
  roiMask,
  toHutchError,
  type FieldSpec,
  type Roi,
  type RunInfo,
  type StreamFactory,
} from "../core/index.js";
import { defineComponent, type ActionDef, type ComponentContext } from "../component/index.js";
import type { Subscription } from "../transport/index.js";
import { InputBatch } from "./input-batch.js";
import { RoiParamsSchema, SetRoiSchema, type NamedRoi, type SetRoi } from "./roi-node.js";
import { RoiWorkerPool, type PixelArray } from "./roi-worker-pool.js";
import { RowBuffer } from "./row-buffer.js";
import { applyCuts } from "./stage-params.js";

/** SACLA's pixel threshold: calibrated values below 1000/3.65 count as 0. */
export const SACLA_THRESHOLD = 1000 / 3.65;

/**
 * Params of the roi-sum-worker stage: those of `roi-sum`, plus the workers and a per-event gain field; the
 * threshold defaults to SACLA's 1000/3.65 (null: none).
 */
export const RoiWorkerParamsSchema = RoiParamsSchema.extend({
  threshold: z
    .number()
    .nullable()
    .default(SACLA_THRESHOLD)
    .describe("pixels whose value x gain is below this count as 0 (default 1000/3.65); null: no threshold"),
  workers: z.number().int().min(1).max(16).default(1).describe("worker threads summing ROIs"),
  inFlightPerWorker: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(4)
    .describe("batches queued per worker; past that the input queue takes the strain (drop-oldest, counted)"),
  gainField: z
    .string()
    .min(1)
    .optional()
    .describe("scalar field holding each frame's gain (e.g. the detector's absolute gain), times `gain`"),
});
/** Params of the roi-sum-worker stage. */
export type RoiWorkerParams = z.infer<typeof RoiWorkerParamsSchema>;

interface Pending {
  readonly time: Float64Array;
  readonly n: number;
  readonly carried: Record<string, ArrayLike<number>>;
  readonly mask: Uint8Array | undefined;
  readonly names: readonly string[];
  sums?: Float64Array;
  error?: Error;
  done: boolean;
}

/** The stage: one input subscription per run, jobs to the pool in order, rows published on a timer. */
class RoiWorkerStage {
  params: RoiWorkerParams;
  private pool: RoiWorkerPool | undefined;
  private sub: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private runUid: string | undefined;
  private rows = new RowBuffer([]);
  private readonly pending: Pending[] = [];
  private idleWaiters: (() => void)[] = [];
  private gate: Promise<void> | undefined;
  private masks: { key: string; spans: Int32Array[] } = { key: "", spans: [] };
  private out: StreamFactory | undefined;
  private outKey = "";
  private publishing: Promise<void> = Promise.resolve();
  private readonly missing = new Set<string>();
  private readonly warn = new RateLimiter(5, 10_000);

  constructor(
    private readonly ctx: ComponentContext,
    initial: RoiWorkerParams,
  ) {
    this.params = initial;
  }

  start(run: RunInfo): void {
    const p = this.params;
    this.pool ??= new RoiWorkerPool(p.workers, (err) =>
      this.ctx.fail(`${this.ctx.name}: ROI workers failed`, err),
    );
    this.runUid = run.uid;
    this.out = undefined;
    this.pending.length = 0;
    this.masks = { key: "", spans: [] };
    this.rows = new RowBuffer(this.columns());
    this.sub = this.ctx.bus.subscribe({
      prefix: `${this.ctx.instrument}/${p.input}/`,
      overflow: p.overflow,
      capacity: p.capacity,
      name: `${this.ctx.name}:input`,
    });
    this.loop = this.consume(this.sub);
    if (p.publishIntervalMs > 0) this.timer = setInterval(() => this.schedulePublish(), p.publishIntervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sub?.close();
    await this.loop;
    await this.idle();
    this.schedulePublish();
    await this.publishing;
    this.sub = undefined;
    this.runUid = undefined;
  }

  abandon(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sub?.close();
    this.runUid = undefined;
  }

  async close(): Promise<void> {
    this.abandon();
    await this.pool?.close();
  }

  /** The set-roi action: flushes what was summed with the old ROIs, then switches. */
  async setRoi(a: SetRoi): Promise<{ rois: NamedRoi[]; gain: number; threshold: number | null }> {
    const p = this.params;
    const rois = p.rois.filter((r) => r.name !== a.name);
    if (a.roi) {
      roiMask(a.roi as Roi, 1, 1); // a degenerate polygon is refused before anything changes
      rois.push({ name: a.name, ...a.roi } as NamedRoi);
    }
    const gain = a.gain ?? p.gain;
    const threshold = a.threshold === undefined ? p.threshold : a.threshold;
    if (this.runUid) {
      let open!: () => void;
      this.gate = new Promise<void>((r) => (open = r));
      await this.idle();
      this.schedulePublish(); // rows of the old ROIs go out under the old descriptor
      await this.publishing;
      this.params = { ...p, rois, gain, threshold };
      this.masks = { key: "", spans: [] };
      this.rows.setColumns(this.columns());
      this.gate = undefined;
      open();
    } else this.params = { ...p, rois, gain, threshold };
    return { rois, gain, threshold };
  }

  private columns(): string[] {
    return [...this.params.rois.map((r) => r.name), ...this.params.carry];
  }

  private async consume(sub: Subscription): Promise<void> {
    const c = this.ctx.counters;
    for await (const { doc } of sub) {
      if (doc.kind !== "event" && doc.kind !== "event-page") continue;
      c.set("skipped", sub.stats.dropped);
      if (doc.runUid !== this.runUid) {
        c.inc("other_run");
        continue;
      }
      if (this.gate) await this.gate;
      const batch = new InputBatch(doc);
      try {
        await this.submit(batch);
        c.inc("received", batch.n);
        c.inc("batches");
      } catch (err) {
        this.reject(batch, err);
      }
      this.trackMissing(batch);
    }
    c.set("skipped", sub.stats.dropped);
  }

  private async submit(batch: InputBatch): Promise<void> {
    const p = this.params;
    const carried: Record<string, ArrayLike<number>> = {};
    for (const f of p.carry) {
      const v = batch.scalar(f);
      if (v) carried[f] = Float64Array.from(v);
    }
    const img = batch.column(p.image);
    let gains: number | Float64Array = p.gain;
    if (p.gainField) {
      const g = batch.scalar(p.gainField);
      if (!g) return;
      gains = Float64Array.from(g, (x) => x * p.gain);
    }
    if (!img) return;
    if (img.shape.length !== 2) {
      throw new HutchError(
        ErrorCode.Validation,
        `image '${p.image}' has shape [${img.shape.join(",")}] per event, expected [height, width]`,
      );
    }
    const [height, width] = img.shape as [number, number];
    let mask: Uint8Array | undefined;
    if (p.cuts.length > 0) {
      mask = new Uint8Array(batch.n);
      if (applyCuts(batch, p.cuts, mask) === 0) return;
    }
    const names = p.rois.map((r) => r.name);
    const entry: Pending = {
      time: batch.time.slice(),
      n: batch.n,
      carried,
      mask,
      names,
      done: names.length === 0,
    };
    this.pending.push(entry);
    if (entry.done) return this.drain();
    const spans = this.spansFor(width, height);
    const pool = this.pool!;
    await pool.whenBelow(p.workers * p.inFlightPerWorker);
    const data = ArrayBuffer.isView(img.data) ? (img.data as PixelArray) : Float64Array.from(img.data);
    pool
      .submit({ data, frames: batch.n, width, height, spans, gains, threshold: p.threshold ?? undefined })
      .then(
        (sums) => (entry.sums = sums),
        (err: Error) => (entry.error = err),
      )
      .finally(() => {
        entry.done = true;
        this.ctx.counters.set("worker_busy_ms", Math.round(pool.busyMs));
        this.ctx.counters.set("copied_frames", pool.copiedFrames);
        this.drain();
      });
  }

  private spansFor(width: number, height: number): Int32Array[] {
    const key = `${width}x${height}`;
    if (this.masks.key !== key) {
      this.masks = { key, spans: this.params.rois.map((r) => roiMask(r as Roi, width, height).spans) };
    }
    return this.masks.spans;
  }

  /** Appends the answered jobs at the head of the queue, in input order. */
  private drain(): void {
    while (this.pending[0]?.done) {
      const e = this.pending.shift()!;
      if (e.error) {
        this.ctx.counters.inc("invalid");
        if (this.warn.take()) this.ctx.log.warn(`${this.ctx.name}: ROI sums failed: ${e.error.message}`);
        continue;
      }
      const values: Record<string, ArrayLike<number>> = { ...e.carried };
      e.names.forEach((name, k) => (values[name] = e.sums!.subarray(k * e.n, (k + 1) * e.n)));
      this.rows.append(e.time, values, e.n, e.mask);
    }
    if (this.pending.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    if (this.params.publishIntervalMs === 0) this.schedulePublish();
  }

  private idle(): Promise<void> {
    if (this.pending.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private schedulePublish(): void {
    this.publishing = this.publishing.then(() => this.publish());
  }

  private async publish(): Promise<void> {
    const page = this.rows.take();
    if (!page || !this.runUid) return;
    try {
      const fields: Record<string, FieldSpec> = {};
      for (const r of this.params.rois) {
        fields[r.name] = {
          dtype: "float64",
          shape: [],
          description: `sum of ${r.kind} ROI of '${this.params.image}'`,
        };
      }
      for (const f of this.params.carry)
        fields[f] = { dtype: "float64", shape: [], source: `${this.params.input}.${f}` };
      const key = JSON.stringify(fields);
      if (!this.out || key !== this.outKey) {
        this.outKey = key;
        const p = this.params;
        this.out = this.ctx.stream(p.output ?? this.ctx.name, fields, {
          configuration: {
            input: p.input,
            component: this.ctx.name,
            rois: p.rois,
            gain: p.gain,
            threshold: p.threshold,
          },
        });
        await this.ctx.bus.publish(this.out.descriptor);
      }
      const data = Object.fromEntries(Object.entries(page.data).filter(([k]) => k in fields));
      await this.ctx.bus.publish(this.out.page(page.time, data));
      this.ctx.counters.inc("published");
    } catch (err) {
      this.ctx.fail(`${this.ctx.name}: publishing ROI sums failed`, err);
    }
  }

  private reject(batch: InputBatch, err: unknown): void {
    this.ctx.counters.inc("invalid");
    if (this.warn.take()) {
      this.ctx.log.warn(
        `${this.ctx.name}: batch seq ${batch.seq} of '${batch.stream}' rejected: ${toHutchError(err).message}`,
      );
    }
  }

  private trackMissing(batch: InputBatch): void {
    const name = this.ctx.name;
    for (const f of batch.missing) {
      if (this.missing.has(f)) continue;
      this.missing.add(f);
      this.ctx.counters.inc("missing_fields");
      this.ctx.alarm(
        `${name}:missing:${f}`,
        "warning",
        `${name}: field '${f}' is missing from stream '${this.params.input}'`,
      );
    }
    for (const f of batch.present) {
      if (this.missing.delete(f))
        this.ctx.alarm(
          `${name}:missing:${f}`,
          "warning",
          `${name}: field '${f}' is back in stream '${this.params.input}'`,
          false,
        );
    }
  }
}

/**
 * `roi-sum` with the sums computed in worker threads: per-event sums of named rectangle/polygon ROIs of an image
 * field after gain (optionally times a per-event `gainField`) and threshold, with carried scalars and cuts,
 * published as pages in input order. A frame is copied once into a staging buffer that moves to a worker and
 * back (a frame already in a SharedArrayBuffer is shared as it is). Action `set-roi` as for `roi-sum` (the
 * dashboard's ROI drawing uses it).
 * @example { type: roi-sum-worker, params: { input: mpccd1, image: frame, gainField: gain, threshold: 273.97,
 *   workers: 1, carry: [tag, i0, beam_status, delay], rois: [{ name: roi1, kind: rect, x0: 300, y0: 100, x1: 700, y1: 400 }] } }
 */
export const roiWorkerNode = defineComponent<RoiWorkerParams>({
  type: "roi-sum-worker",
  description: "ROI sums (rectangle/polygon, gain, threshold) computed in worker threads",
  params: RoiWorkerParamsSchema,
  create: (params, ctx) => {
    const stage = new RoiWorkerStage(ctx, params);
    const setRoi: ActionDef<SetRoi, unknown> = {
      description:
        "add, replace (roi) or remove (roi: null) a named ROI; optionally change gain and threshold",
      params: SetRoiSchema,
      run: (a) => stage.setRoi(a),
    };
    return {
      configure: (cfg) => {
        stage.params = cfg as RoiWorkerParams; // validated against the schema by the host
      },
      start: (run) => stage.start(run),
      stop: () => stage.stop(),
      reset: () => stage.abandon(),
      close: () => stage.close(),
      actions: { "set-roi": setRoi as ActionDef<never> },
    };
  },
});
