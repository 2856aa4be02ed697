// The `pmt-sim` component: the PMT test stand's DAQ, simulated; `acquire` takes one scan point's triggers.
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import { nd, nowSec, type FieldSpec, type StreamFactory } from "../../core/index.js";
import { defineComponent, type ActionDef } from "../../component/index.js";
import { chargeOfGain, simulatePmtPulses } from "./pmt-pulses.js";
import { writePointFile } from "./pmt-point-writer.js";
import {
  PmtSimParamsSchema,
  simEventsAt,
  simGainAt,
  simSeedAt,
  type PmtSimParams,
} from "./pmt-sim-params.js";

const Segment = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "one path segment: letters, digits, '_', '.', '-'");

/** Params of the `acquire` action. */
export const AcquireSchema = z.strictObject({
  point: z.number().int().min(0).max(100_000),
  /** The scan's directory under the simulator's dir. */
  group: Segment,
  file: Segment.optional(),
  events: z.number().int().min(0).max(10_000_000).optional(),
  hvV: z.number().positive().optional(),
  thetaDeg: z.number().optional(),
  phiDeg: z.number().optional(),
});
/** Params of the `acquire` action. */
export type Acquire = z.infer<typeof AcquireSchema>;

/** What `acquire` returns: the point file (absolute, and relative to the dir) and the simulated truth. */
export interface AcquireResult {
  readonly path: string;
  readonly file: string;
  readonly events: number;
  readonly bytes: number;
  readonly simulated: { readonly gain: number; readonly mu1Pc: number };
}

const FIELDS: Record<string, FieldSpec> = {
  charge: { dtype: "float32", shape: [], units: "pC" },
  time: { dtype: "float32", shape: [], units: "ns", description: "t_PMT - t_trigger" },
  point: { dtype: "int32", shape: [], description: "scan point index" },
};

const action = <P, R>(a: ActionDef<P, R>) => a as unknown as ActionDef<never>;

/**
 * A simulated PMT test stand: `acquire {point, group}` takes the point's triggers (pedestal, 1 PE, 2 PE at the
 * point's gain, LED-timed and dark hits), writes them as `<dir>/<group>/point-NN.npy` like the real DAQ, and
 * publishes them on its stream during a run.
 * @example { name: pmt, type: pmt-sim, params: { gains: { "5": 1.1e7 }, eventsAt: { "12": 5 } } }
 */
export const pmtSimComponent = defineComponent<PmtSimParams>({
  type: "pmt-sim",
  description: "simulated PMT test stand: charges and times per scan point, written as point files",
  role: "source",
  params: PmtSimParamsSchema,
  create: (initial, ctx) => {
    let p = initial;
    let stream: StreamFactory | undefined;
    let described = false;
    const dir = () => (isAbsolute(p.dir) ? p.dir : join(ctx.dataDir, p.dir));
    return {
      configure: (config) => {
        p = PmtSimParamsSchema.parse(config);
      },
      start: () => {
        stream = ctx.stream(p.stream, FIELDS, { configuration: { gain: p.gain, gains: p.gains } });
        described = false;
      },
      stop: () => {
        stream = undefined;
      },
      actions: {
        acquire: action<Acquire, AcquireResult>({
          description:
            "take one scan point's triggers: {point, group, file?, events?, hvV?, thetaDeg?, phiDeg?}",
          params: AcquireSchema,
          run: async (a) => {
            const gain = simGainAt(p, a.point, a.hvV);
            const events = a.events ?? simEventsAt(p, a.point);
            const pulses = simulatePmtPulses(gain, events, simSeedAt(p, a.point, a.hvV), {
              pedestalFraction: p.pedestalFraction,
              twoPeFraction: p.twoPeFraction,
              offTimeFraction: p.offTimeFraction,
            });
            const file = a.file ?? `point-${String(a.point).padStart(2, "0")}.npy`;
            const path = join(dir(), a.group, file);
            const bytes = writePointFile(path, pulses);
            ctx.counters.inc("points");
            ctx.counters.inc("events", events);
            const s = stream;
            if (s) {
              if (!described) {
                await ctx.bus.publish(s.descriptor);
                described = true;
              }
              for (let i = 0; i < events; i += p.pageSize) {
                const n = Math.min(p.pageSize, events - i);
                const t = nowSec();
                await ctx.bus.publish(
                  s.page(new Float64Array(n).fill(t), {
                    charge: nd(pulses.chargePc.slice(i, i + n)),
                    time: nd(pulses.timeNs.slice(i, i + n)),
                    point: nd(new Int32Array(n).fill(a.point)),
                  }),
                );
              }
            }
            return {
              path,
              file: `${a.group}/${file}`,
              events,
              bytes,
              simulated: { gain, mu1Pc: chargeOfGain(gain) },
            };
          },
        }),
      },
    };
  },
});
