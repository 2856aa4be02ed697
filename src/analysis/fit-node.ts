// Fit stage: Gaussian / two-Gaussian fits of a histogram stream, or the PMT gain by unbinned likelihood of charges.
import { z } from "zod";
import {
  ErrorCode,
  HutchError,
  PMT_GAIN_DEFAULTS,
  isHutchError,
  fitHistogram,
  gaussianModel,
  modelCurve,
  nd,
  normalInterval,
  pmtGain,
  twoGaussianModel,
  type BinnedModel,
  type FieldSpec,
  type FitResult,
} from "../core/index.js";
import { defineComponent } from "../component/index.js";
import type { InputBatch } from "./input-batch.js";
import { StageParamsSchema } from "./stage-params.js";
import { stageHooks, type StageLogic, type StageOutput } from "./stage-runner.js";

const Window = z
  .tuple([z.number(), z.number()])
  .refine(([lo, hi]) => hi > lo, "a window is [lo, hi] with lo < hi");

/** Params of the fit stage. */
export const FitParamsSchema = StageParamsSchema.extend({
  model: z.enum(["gauss", "two-gauss", "pmt-gain"], {
    message: "model must be 'gauss', 'two-gauss' or 'pmt-gain'",
  }),
  counts: z.string().default("counts").describe("histogram models: field with the bin counts"),
  edges: z.string().default("edges").describe("histogram models: field with the bin edges"),
  meanRatio: z.number().positive().optional().describe("two-gauss: fix mu2 = meanRatio x mu1"),
  range: Window.optional().describe("histogram models: fit only bins inside [lo, hi]"),
  method: z.enum(["poisson", "neyman"]).default("poisson"),
  lower: z.record(z.string(), z.number()).default({}).describe("lower bounds by parameter name"),
  upper: z.record(z.string(), z.number()).default({}).describe("upper bounds by parameter name"),
  minEntries: z.number().int().min(1).default(10).describe("fewer entries (events) gives status no-data"),
  charge: z.string().default("charge").describe("pmt-gain: field with pulse charges in pC"),
  time: z.string().optional().describe("pmt-gain: field with t_PMT - t_trigger in ns (selection window)"),
  chargeWindowPc: Window.default([...PMT_GAIN_DEFAULTS.chargeWindowPc]),
  timeWindowNs: Window.default([...PMT_GAIN_DEFAULTS.timeWindowNs]),
  mu1RangePc: Window.default([...PMT_GAIN_DEFAULTS.mu1RangePc]),
  maxValues: z.number().int().min(10).default(1_000_000).describe("pmt-gain: charges kept per run"),
  bins: z.number().int().min(1).default(80).describe("pmt-gain: bins of the published charge histogram"),
}).superRefine((p, ctx) => {
  if (p.model === "pmt-gain") return;
  const names = modelOf(p).names;
  for (const [key, bounds] of [
    ["lower", p.lower],
    ["upper", p.upper],
  ] as const) {
    for (const k of Object.keys(bounds)) {
      if (!names.includes(k)) {
        ctx.addIssue({
          code: "custom",
          path: [key, k],
          message: `no parameter '${k}' in model ${p.model} (${names.join(", ")})`,
        });
      }
    }
  }
});
/** Params of the fit stage. */
export type FitParams = z.infer<typeof FitParamsSchema>;

const PMT_NAMES = ["N1", "mu1", "sigma1", "N2", "sigma2"];

function modelOf(p: Pick<FitParams, "model" | "meanRatio">): BinnedModel {
  return p.model === "gauss"
    ? gaussianModel
    : twoGaussianModel(p.meanRatio === undefined ? {} : { meanRatio: p.meanRatio });
}

/** The fit logic of one run. */
export class FitLogic implements StageLogic {
  private readonly model: BinnedModel | undefined;
  private readonly names: readonly string[];
  private counts: Float64Array | undefined;
  private edges: Float64Array | undefined;
  private charges = new Float64Array(1024);
  private times: Float64Array | undefined;
  private nValues = 0;
  /** Values not kept because `maxValues` was reached. */
  droppedValues = 0;
  private changed = false;

  constructor(private readonly p: FitParams) {
    this.model = p.model === "pmt-gain" ? undefined : modelOf(p);
    this.names = this.model ? this.model.names : PMT_NAMES;
    if (p.time) this.times = new Float64Array(1024);
  }

  fields(): Record<string, FieldSpec> | undefined {
    const bins = this.model ? this.counts?.length : this.p.bins;
    if (bins === undefined) return undefined;
    const s = (description?: string): FieldSpec => ({
      dtype: "float64",
      shape: [],
      ...(description ? { description } : {}),
    });
    const f: Record<string, FieldSpec> = {
      status: { dtype: "string", shape: [], description: "ok, failed (no convergence) or no-data" },
      converged: { dtype: "bool", shape: [] },
      chi2: s("Poisson deviance or chi2 (histograms), 2 x NLL (unbinned)"),
      ndf: s(),
      entries: s("entries (events) fitted"),
      curve: { dtype: "float64", shape: [bins], description: "fitted expected counts per bin" },
      edges: { dtype: "float64", shape: [bins + 1] },
    };
    if (!this.model) {
      f.counts = { dtype: "float64", shape: [bins], description: "histogram of the selected charges" };
      f.gain = s("mu1 [pC] x 1e-12 / e; NaN when no-data");
      f.gain_err = s();
    }
    for (const n of this.names) {
      f[n] = s();
      f[`${n}_err`] = s();
    }
    return f;
  }

  process(batch: InputBatch): void {
    if (this.model) {
      const c = batch.column(this.p.counts);
      const e = batch.column(this.p.edges);
      if (!c || !e) return;
      if (e.size !== c.size + 1) {
        throw new HutchError(
          ErrorCode.Validation,
          `'${this.p.edges}' has ${e.size} values per event; '${this.p.counts}' needs ${c.size + 1}`,
        );
      }
      // Only the newest histogram of the batch matters.
      const last = batch.n - 1;
      const counts = Float64Array.from({ length: c.size }, (_, i) => c.data[last * c.size + i]!);
      const edges = Float64Array.from({ length: e.size }, (_, i) => e.data[last * e.size + i]!);
      for (let i = 0; i < counts.length; i++) {
        if (!(counts[i]! >= 0) || !(edges[i + 1]! > edges[i]!)) {
          throw new HutchError(
            ErrorCode.Validation,
            `histogram bin ${i}: count ${counts[i]} over [${edges[i]}, ${edges[i + 1]}); need counts >= 0 and increasing edges`,
          );
        }
      }
      this.counts = counts;
      this.edges = edges;
    } else {
      const q = batch.scalar(this.p.charge);
      const t = this.p.time ? batch.scalar(this.p.time) : undefined;
      if (!q || (this.p.time && !t)) return;
      this.append(q, t, batch.n);
    }
    this.changed = true;
  }

  output(final: boolean): StageOutput | undefined {
    if (!this.changed && !final) return undefined;
    if (this.model ? !this.counts : this.nValues === 0 && !final) return undefined;
    this.changed = false;
    return { event: { data: this.model ? this.fitHistogram() : this.fitPmt() } };
  }

  private fitHistogram(): Record<string, never> {
    const counts = this.counts!;
    const edges = this.edges!;
    let entries = 0;
    for (const c of counts) entries += c;
    const data: Record<string, unknown> = { entries, edges: nd(edges.slice()) };
    let r: FitResult | undefined;
    let status = "no-data";
    if (entries >= this.p.minEntries) {
      try {
        const np = this.names.length;
        const lower = Float64Array.from({ length: np }, (_, i) => this.p.lower[this.names[i]!] ?? NaN);
        const upper = Float64Array.from({ length: np }, (_, i) => this.p.upper[this.names[i]!] ?? NaN);
        r = fitHistogram(counts, edges, this.model!, {
          lower,
          upper,
          method: this.p.method,
          ...(this.p.range ? { range: this.p.range } : {}),
        });
        status = r.converged ? "ok" : "failed";
      } catch (err) {
        // The input was checked in process(): what remains is too few non-empty bins for the model.
        if (!isHutchError(err, ErrorCode.Validation)) throw err;
      }
    }
    this.putParams(data, r);
    data.status = status;
    data.curve = nd(r ? modelCurve(this.model!, edges, r.params) : new Float64Array(counts.length).fill(NaN));
    return data as Record<string, never>;
  }

  private fitPmt(): Record<string, never> {
    const [qlo, qhi] = this.p.chargeWindowPc;
    const q = this.charges.subarray(0, this.nValues);
    const t = this.times?.subarray(0, this.nValues);
    const g = pmtGain(q, {
      ...(t ? { timesNs: t } : {}),
      chargeWindowPc: this.p.chargeWindowPc,
      timeWindowNs: this.p.timeWindowNs,
      mu1RangePc: this.p.mu1RangePc,
      minEvents: this.p.minEntries,
    });
    const bins = this.p.bins;
    const w = (qhi - qlo) / bins;
    const edges = Float64Array.from({ length: bins + 1 }, (_, i) => qlo + i * w);
    const counts = new Float64Array(bins);
    const [tlo, thi] = this.p.timeWindowNs;
    for (let i = 0; i < q.length; i++) {
      const v = q[i]!;
      if (!(v > qlo && v < qhi) || (t && !(t[i]! > tlo && t[i]! < thi))) continue;
      counts[Math.min(bins - 1, Math.floor((v - qlo) / w))]! += 1;
    }
    const fit = g.status === "no-data" ? undefined : g.fit;
    const data: Record<string, unknown> = {
      status: g.status,
      entries: g.events,
      gain: g.status === "ok" ? g.gain : NaN,
      gain_err: g.status === "ok" ? g.gainError : NaN,
      counts: nd(counts),
      edges: nd(edges),
      curve: nd(fit ? pmtCurve(fit.params, edges, [qlo, qhi]) : new Float64Array(bins).fill(NaN)),
    };
    this.putParams(data, fit);
    return data as Record<string, never>;
  }

  private putParams(data: Record<string, unknown>, r: FitResult | undefined): void {
    data.converged = r?.converged ?? false;
    data.chi2 = r?.chi2 ?? NaN;
    data.ndf = r?.ndf ?? NaN;
    this.names.forEach((n, i) => {
      data[n] = r ? r.params[i]! : NaN;
      data[`${n}_err`] = r ? r.errors[i]! : NaN;
    });
  }

  private append(q: ArrayLike<number>, t: ArrayLike<number> | undefined, n: number): void {
    const room = this.p.maxValues - this.nValues;
    const take = Math.min(n, room);
    this.droppedValues += n - take;
    if (take <= 0) return;
    const need = this.nValues + take;
    if (need > this.charges.length) {
      const cap = Math.min(this.p.maxValues, Math.max(need, 2 * this.charges.length));
      const grow = (a: Float64Array) => {
        const b = new Float64Array(cap);
        b.set(a.subarray(0, this.nValues));
        return b;
      };
      this.charges = grow(this.charges);
      if (this.times) this.times = grow(this.times);
    }
    for (let i = 0; i < take; i++) this.charges[this.nValues + i] = q[i]!;
    if (this.times && t) for (let i = 0; i < take; i++) this.times[this.nValues + i] = t[i]!;
    this.nValues += take;
  }
}

/** Expected counts per bin of the PMT model (yields are inside the window; each Gaussian normalised there). */
function pmtCurve(p: Float64Array, edges: Float64Array, [lo, hi]: readonly [number, number]): Float64Array {
  const [n1, mu1, s1, n2, s2] = [p[0]!, p[1]!, p[2]!, p[3]!, p[4]!];
  const z1 = normalInterval((lo - mu1) / s1, (hi - mu1) / s1);
  const z2 = normalInterval((lo - 2 * mu1) / s2, (hi - 2 * mu1) / s2);
  const out = new Float64Array(edges.length - 1);
  for (let i = 0; i < out.length; i++) {
    const a = edges[i]!;
    const b = edges[i + 1]!;
    out[i] =
      (n1 * normalInterval((a - mu1) / s1, (b - mu1) / s1)) / z1 +
      (n2 * normalInterval((a - 2 * mu1) / s2, (b - 2 * mu1) / s2)) / z2;
  }
  return out;
}

/**
 * Fits, published as one event per interval when new data arrived: `gauss` / `two-gauss` fit the newest
 * histogram of the input (fields `counts`, `edges`, e.g. from a histogram stage); `pmt-gain` collects charges
 * (and times) over the run and fits the R12860 model by extended unbinned likelihood. Every output has
 * `status` (ok, failed, no-data), `converged`, `chi2`, `ndf`, each parameter with `<name>_err`, and the fitted
 * `curve` per bin for an overlay; `pmt-gain` adds `gain`, `gain_err` and the charge histogram.
 * @example { type: fit, params: { input: charge-hist, model: two-gauss, meanRatio: 2, lower: { mu1: 1 } } }
 */
export const fitNode = defineComponent<FitParams>({
  type: "fit",
  description: "Gaussian / two-Gaussian histogram fits, PMT gain by unbinned likelihood",
  params: FitParamsSchema,
  create: (params, ctx) =>
    stageHooks(params, ctx, (p) => {
      const logic = new FitLogic(p);
      return {
        fields: () => logic.fields(),
        process: (b) => logic.process(b),
        output: (final) => {
          const o = logic.output(final);
          ctx.counters.set("dropped_values", logic.droppedValues);
          return o;
        },
      };
    }),
});
