// Quality rule stage: a field checked against a healthy range; quality documents, alarms, optional pause/stop of the run.
import { z } from "zod";
import { RunningStats, nowSec, type Quality } from "../core/index.js";
import { defineComponent, type ComponentContext } from "../component/index.js";
import type { InputBatch } from "./input-batch.js";
import { StageParamsSchema } from "./stage-params.js";
import { stageHooks, type StageLogic, type StageOutput } from "./stage-runner.js";

/** Params of the quality-rule stage. */
export const QualityParamsSchema = StageParamsSchema.extend({
  field: z.string().min(1, "field: name the field to check"),
  low: z.number().optional().describe("healthy when value >= low"),
  high: z.number().optional().describe("healthy when value <= high"),
  reduce: z
    .enum(["last", "mean", "min", "max"])
    .default("last")
    .describe("how the values received since the last check become one value"),
  severity: z.enum(["info", "warning", "error"]).default("error"),
  onViolation: z
    .enum(["none", "pause", "stop", "abort"])
    .default("none")
    .describe("what run control is asked to do when the rule stays broken"),
  violationsBeforeAction: z
    .number()
    .int()
    .min(1)
    .default(1)
    .describe("consecutive broken checks before onViolation is requested"),
  message: z.string().optional().describe("alarm text; default names the field, value and range"),
})
  .refine((p) => p.low !== undefined || p.high !== undefined, {
    message: "a quality rule needs low, high or both",
    path: ["low"],
  })
  .refine((p) => p.low === undefined || p.high === undefined || p.low <= p.high, {
    message: "low must not exceed high",
    path: ["high"],
  });
/** Params of the quality-rule stage. */
export type QualityParams = z.infer<typeof QualityParamsSchema>;

/** The quality-rule logic of one run. Checks once per publish interval. */
export class QualityLogic implements StageLogic {
  private readonly stats = new RunningStats();
  private last = NaN;
  private streak = 0;
  private requested = false;

  /** `shared.alarm` outlives the run, so an alarm raised in one run is cleared when a later run is healthy. */
  constructor(
    private readonly p: QualityParams,
    private readonly ctx: ComponentContext,
    private readonly shared: { alarm: boolean } = { alarm: false },
  ) {}

  /** The alarm id of this rule. */
  get alarmId(): string {
    return `${this.ctx.name}:${this.p.field}`;
  }

  fields(): undefined {
    return undefined; // publishes quality documents, not events
  }

  process(batch: InputBatch): void {
    const v = batch.scalar(this.p.field);
    if (!v) return;
    this.stats.addBatch(v, undefined, 0, batch.n);
    for (let i = batch.n - 1; i >= 0; i--) {
      if (Number.isFinite(v[i]!)) {
        this.last = v[i]!;
        break;
      }
    }
  }

  output(final: boolean): StageOutput | undefined {
    const value = this.reduce();
    this.stats.reset();
    const { low, high } = this.p;
    const ok =
      value === null ? null : (low === undefined || value >= low) && (high === undefined || value <= high);
    const doc: Quality = {
      kind: "quality",
      time: nowSec(),
      source: this.ctx.name,
      field: this.p.field,
      value,
      ...(low !== undefined ? { low } : {}),
      ...(high !== undefined ? { high } : {}),
      ok,
    };
    if (ok === false) this.violated(value!, final);
    else if (ok === true) this.healthy();
    return { docs: [doc] };
  }

  private reduce(): number | null {
    const s = this.stats;
    if (s.count === 0) return null;
    switch (this.p.reduce) {
      case "mean":
        return s.mean;
      case "min":
        return s.min;
      case "max":
        return s.max;
      default:
        return this.last;
    }
  }

  private range(): string {
    const { low, high } = this.p;
    if (low !== undefined && high !== undefined) return `[${low}, ${high}]`;
    return low !== undefined ? `>= ${low}` : `<= ${high}`;
  }

  private violated(value: number, final: boolean): void {
    this.streak++;
    const text = this.p.message ?? `${this.p.field} = ${value} is outside the healthy range ${this.range()}`;
    if (!this.shared.alarm) {
      this.shared.alarm = true;
      this.ctx.counters.inc("violations");
      this.ctx.alarm(this.alarmId, this.p.severity, text, true);
    }
    const act = this.p.onViolation;
    if (act !== "none" && !final && !this.requested && this.streak >= this.p.violationsBeforeAction) {
      this.requested = true;
      this.ctx.counters.inc("requests");
      this.ctx.request(act, `quality rule '${this.ctx.name}': ${text}`);
    }
  }

  private healthy(): void {
    this.streak = 0;
    if (!this.shared.alarm) return;
    this.shared.alarm = false;
    this.ctx.alarm(
      this.alarmId,
      this.p.severity,
      `${this.p.field} is back in the healthy range ${this.range()}`,
      false,
    );
  }
}

/**
 * Checks a field against its healthy range once per `publishIntervalMs`: publishes a `quality` document
 * (value null and ok null when no value arrived), raises the alarm `<name>:<field>` when the rule breaks and
 * clears it when it holds again, and with `onViolation` asks run control (ctx.request) to pause, stop or abort
 * the run after `violationsBeforeAction` consecutive broken checks (once per run).
 * @example { type: quality-rule, params: { input: gain-fit, field: gain, low: 0.999e7, high: 1.049e7 } }
 */
export const qualityNode = defineComponent<QualityParams>({
  type: "quality-rule",
  description: "field in healthy range -> quality document and alarm; optionally pause or stop the run",
  params: QualityParamsSchema,
  create: (params, ctx) => {
    const shared = { alarm: false };
    return stageHooks(params, ctx, (p) => new QualityLogic(p, ctx, shared));
  },
});
