// `hutch sim beamline`: runs the beamline simulator until aborted or its tag count is reached.
import { BeamlineSim, type BeamlineSimStats } from "./beamline-sim.js";
import type { BeamlineSimInput } from "./sim-options.js";

/** How runBeamlineSim reports. */
export interface RunBeamlineSimHooks {
  /** Ends the run (Ctrl-C in the CLI). */
  readonly signal?: AbortSignal;
  /** Called every `reportMs` with the stats so far, and once at the end. */
  readonly report?: (stats: Readonly<BeamlineSimStats>) => void;
  readonly reportMs?: number;
}

/**
 * Opens the simulator, sends tags in real time until `signal` aborts or `tags` were generated, then closes the
 * socket and resolves with the final stats.
 * @example
 * const ac = new AbortController(); process.once("SIGINT", () => ac.abort());
 * await runBeamlineSim({ to: "tcp://127.0.0.1:5580", rateHz: 30 }, { signal: ac.signal, report: console.error });
 */
export async function runBeamlineSim(
  opts: BeamlineSimInput,
  hooks: RunBeamlineSimHooks = {},
): Promise<BeamlineSimStats> {
  const sim = await BeamlineSim.open(opts);
  let timer: NodeJS.Timeout | undefined;
  try {
    if (hooks.report) timer = setInterval(() => hooks.report?.({ ...sim.stats }), hooks.reportMs ?? 5000);
    await new Promise<void>((resolve) => {
      if (hooks.signal?.aborted) return resolve();
      hooks.signal?.addEventListener("abort", () => resolve(), { once: true });
      sim.start(resolve);
    });
  } finally {
    if (timer) clearInterval(timer);
    await sim.close();
  }
  hooks.report?.({ ...sim.stats });
  return { ...sim.stats };
}
