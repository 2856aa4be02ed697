// `hutch sim beamline`: runs the beamline simulator until aborted or its tag count is reached.
import { runSimulator, type RunSimHooks } from "../run-simulator.js";
import { BeamlineSim, type BeamlineSimStats } from "./beamline-sim.js";
import type { BeamlineSimInput } from "./sim-options.js";

/** How runBeamlineSim reports. */
export type RunBeamlineSimHooks = RunSimHooks<BeamlineSimStats>;

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
  return runSimulator(await BeamlineSim.open(opts), hooks);
}
