// The CHEC camera simulator as a component: the demo instrument runs 32 simulated modules while a run is on.
import { z } from "zod";
import { defineComponent } from "../../component/index.js";
import { TargetCSim } from "./target-c-sim.js";

/** Params of the in-process camera simulator. */
export const TargetCSimComponentParams = z.strictObject({
  /** Where the target-c source listens (HOST:PORT). */
  to: z.string().regex(/^[^:]+:\d{1,5}$/, "HOST:PORT, e.g. 127.0.0.1:17000"),
  modules: z.number().int().min(1).max(154).default(32),
  /** Readouts per second per module (the camera: 10). */
  rateHz: z.number().positive().max(10_000).default(10),
  readoutsPerDatagram: z.number().int().min(1).max(10).default(1),
  seed: z.number().int().default(1),
  /** Modules that never send (to see partial events). */
  dropModules: z.array(z.number().int().min(0)).default([]),
});
export type TargetCSimComponentParams = z.infer<typeof TargetCSimComponentParams>;

/**
 * Sends as a CHEC-S camera over real UDP (from 127.0.0.101.. on one host) between the start and stop of each run,
 * so a demo or a test bench needs no second command. Role `source`: it starts after the receiving source.
 */
export const targetCSimComponent = defineComponent<TargetCSimComponentParams>({
  type: "target-c-sim",
  description: "simulated CHEC-S camera (32 TARGET-C modules over UDP), sending during runs",
  role: "source",
  params: TargetCSimComponentParams,
  create: (initial) => {
    let p = initial;
    let sim: TargetCSim | undefined;
    const halt = async () => {
      const s = sim;
      sim = undefined;
      if (!s) return;
      await s.stop();
      await s.close();
    };
    return {
      configure: (cfg) => {
        p = TargetCSimComponentParams.parse(cfg);
      },
      start: async (_run, ctx) => {
        sim = await TargetCSim.open({
          to: p.to,
          modules: p.modules,
          rateHz: p.rateHz,
          readoutsPerDatagram: p.readoutsPerDatagram,
          seed: p.seed,
          faults: { dropModules: p.dropModules },
        });
        const s = sim;
        s.start();
        ctx.log.info(`sending as ${p.modules} modules to ${p.to} at ${p.rateHz} readouts/s each`);
        const t = setInterval(() => {
          if (sim !== s) return clearInterval(t);
          ctx.counters.set("datagrams", s.stats.datagrams);
          ctx.counters.set("readouts", s.stats.readouts);
          ctx.counters.set("send_errors", s.stats.sendErrors);
        }, 500);
        t.unref();
      },
      stop: halt,
      close: halt,
    };
  },
});
