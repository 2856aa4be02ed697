// `hutch sim target-c`: runs the TARGET-C camera simulator until aborted or its rounds/duration are done.
import { runSimulator, type RunSimHooks } from "../run-simulator.js";
import { TargetCSim, type TargetCSimStats } from "./target-c-sim.js";
import type { TargetCSimInput } from "./sim-options.js";

/** How runTargetCSim reports. */
export type RunTargetCSimHooks = RunSimHooks<TargetCSimStats>;

/**
 * Opens the simulator, sends in real time until `signal` aborts or `rounds`/`durationMs` are reached, then
 * flushes held datagrams, closes every socket and resolves with the final stats.
 * @example
 * const ac = new AbortController(); process.once("SIGINT", () => ac.abort());
 * const stats = await runTargetCSim({ to: "127.0.0.1:17000", modules: 32, rateHz: 10 }, { signal: ac.signal, report: console.log });
 */
export async function runTargetCSim(
  opts: TargetCSimInput,
  hooks: RunTargetCSimHooks = {},
): Promise<TargetCSimStats> {
  return runSimulator(await TargetCSim.open(opts), hooks);
}
