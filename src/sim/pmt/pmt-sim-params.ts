// Settings of the simulated PMT: a gain (and number of triggers) per scan point, an HV dependence, the pulse model.
import { z } from "zod";

const PerPoint = <T extends z.ZodType>(v: T) =>
  z.record(z.string().regex(/^\d+$/, 'a scan point index like "7"'), v).default({});

/** Params of the PMT simulator (component `pmt-sim` and `hutch sim pmt`). */
export const PmtSimParamsSchema = z.strictObject({
  /** Point files go to `<dir>/<group>/<file>` (relative to the instrument's dataDir). */
  dir: z.string().min(1).default("scans"),
  /** Gain of every point unless `gains` says otherwise (healthy: 0.999e7 .. 1.049e7). */
  gain: z.number().positive().default(1.024e7),
  /** Gain by point index, e.g. {"5": 1.1e7} for a point that must come out red. */
  gains: PerPoint(z.number().positive()),
  /** Triggers per point unless `eventsAt` (or the acquire call) says otherwise. */
  events: z.number().int().min(0).max(10_000_000).default(10_000),
  /** Triggers by point index, e.g. {"12": 5} for a point with too few events. */
  eventsAt: PerPoint(z.number().int().min(0)),
  /** Gain at high voltage V: gain x (V / hvRefV)^hvExponent. */
  hvRefV: z.number().positive().default(1800),
  hvExponent: z.number().positive().default(7),
  seed: z.number().int().default(1),
  /** Triggers per published event-page. */
  pageSize: z.number().int().min(1).max(1_000_000).default(5000),
  stream: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default("pmt"),
  pedestalFraction: z.number().min(0).max(1).default(0.3),
  twoPeFraction: z.number().min(0).max(1).default(0.2),
  offTimeFraction: z.number().min(0).max(1).default(0.1),
});
/** Params of the PMT simulator (after defaults). */
export type PmtSimParams = z.infer<typeof PmtSimParamsSchema>;

/** The simulated gain of a point (at a high voltage, if given). */
export function simGainAt(p: PmtSimParams, point: number, hvV?: number): number {
  const g = p.gains[String(point)] ?? p.gain;
  return hvV === undefined ? g : g * (hvV / p.hvRefV) ** p.hvExponent;
}

/** Triggers of a point. */
export function simEventsAt(p: PmtSimParams, point: number): number {
  return p.eventsAt[String(point)] ?? p.events;
}

/** A seed per point and voltage, so every point is reproducible on its own. */
export function simSeedAt(p: PmtSimParams, point: number, hvV?: number): number {
  return (p.seed * 7919 + point * 104_729 + Math.round(hvV ?? 0)) >>> 0;
}
