// The beamline simulator as a component: sends tags to the beamline source while a run is on; detectors fail on call.
import { z } from "zod";
import { defineComponent, type ActionDef } from "../../component/index.js";
import { BeamlineSim, type FaultMode } from "./beamline-sim.js";
import { BeamlineSimOptionsSchema, type BeamlineSimOptions } from "./sim-options.js";

/** Params of the in-process beamline simulator (the CLI's options without `tags`). */
export const BeamlineSimComponentParams = BeamlineSimOptionsSchema.omit({ tags: true });
/** Params of the in-process beamline simulator. */
export type BeamlineSimComponentParams = z.infer<typeof BeamlineSimComponentParams>;

const DetectorParam = z.object({ detector: z.string().min(1, "name the detector") });

/**
 * Pushes beamline tags (30 Hz by default) to the beamline source between the start and stop of each run; tag
 * numbers continue across runs. Actions `fail-detector` ({detector, mode: absent|error}) and `restore-detector`
 * ({detector}) break and mend a detector while running, to see the rest go on. Role `source`: it starts after
 * the receiving source and stops before it.
 * @example { name: sim, type: beamline-sim, params: { to: "tcp://127.0.0.1:5580", rateHz: 30 } }
 */
export const beamlineSimComponent = defineComponent<BeamlineSimComponentParams>({
  type: "beamline-sim",
  description:
    "simulated beamline: tags with I0, beam status, delay motor and MPCCD frames, sent during runs",
  role: "source",
  params: BeamlineSimComponentParams,
  create: (initial) => {
    let p: BeamlineSimOptions = initial;
    let sim: BeamlineSim | undefined;
    let nextTag = p.firstTag;
    let report: NodeJS.Timeout | undefined;
    const manual = new Map<string, FaultMode>();
    const halt = async () => {
      const s = sim;
      sim = undefined;
      if (report) clearInterval(report);
      report = undefined;
      if (!s) return;
      await s.close();
      nextTag = s.nextTag;
    };
    const check = (detector: string) => {
      if (!p.detectors.some((d) => d.name === detector)) {
        throw new Error(
          `no detector '${detector}' (detectors: ${p.detectors.map((d) => d.name).join(", ")})`,
        );
      }
    };
    const failAction: ActionDef<
      { detector: string; mode: FaultMode },
      { faults: Record<string, FaultMode> }
    > = {
      description: "make a detector fail: absent from the tags (default) or reporting an error",
      params: DetectorParam.extend({ mode: z.enum(["absent", "error"]).default("absent") }),
      run: ({ detector, mode }) => {
        check(detector);
        manual.set(detector, mode);
        sim?.fail(detector, mode);
        return { faults: Object.fromEntries(manual) };
      },
    };
    const restoreAction: ActionDef<{ detector: string }, { faults: Record<string, FaultMode> }> = {
      description: "bring a failed detector back",
      params: DetectorParam,
      run: ({ detector }) => {
        check(detector);
        manual.delete(detector);
        sim?.restore(detector);
        return { faults: Object.fromEntries(manual) };
      },
    };
    return {
      configure: (cfg) => {
        p = BeamlineSimComponentParams.parse(cfg);
      },
      start: async (_run, ctx) => {
        sim = await BeamlineSim.open({ ...p, firstTag: nextTag });
        for (const [d, mode] of manual) sim.fail(d, mode);
        const s = sim;
        s.start();
        ctx.log.info(
          `sending tags from ${s.nextTag} to ${p.to} at ${p.rateHz} Hz, detectors ${p.detectors.map((d) => d.name).join(", ")}`,
        );
        report = setInterval(() => {
          for (const [k, v] of Object.entries(s.stats)) ctx.counters.set(k, v);
        }, 500);
        report.unref();
      },
      stop: halt,
      close: halt,
      actions: {
        "fail-detector": failAction as ActionDef<never>,
        "restore-detector": restoreAction as ActionDef<never>,
      },
    };
  },
});
