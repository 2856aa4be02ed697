// `hutch sim target-c`: runs the TARGET-C camera simulator until aborted or its rounds/duration are done.
import { TargetCSim, type TargetCSimStats } from "./target-c-sim.js";
import type { TargetCSimInput } from "./sim-options.js";

/** How runTargetCSim reports. */
export interface RunTargetCSimHooks {
  /** Ends the run (Ctrl-C in the CLI). */
  readonly signal?: AbortSignal;
  /** Called every `reportMs` with the stats so far, and once at the end. */
  readonly report?: (stats: Readonly<TargetCSimStats>) => void;
  readonly reportMs?: number;
}

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
  const sim = await TargetCSim.open(opts);
  let timer: NodeJS.Timeout | undefined;
  try {
    if (hooks.report) timer = setInterval(() => hooks.report?.({ ...sim.stats }), hooks.reportMs ?? 5000);
    await new Promise<void>((resolve) => {
      if (hooks.signal?.aborted) return resolve();
      hooks.signal?.addEventListener("abort", () => resolve(), { once: true });
      sim.start(resolve);
    });
    await sim.stop();
    await sim.sent();
  } finally {
    if (timer) clearInterval(timer);
    await sim.close();
  }
  hooks.report?.({ ...sim.stats });
  return { ...sim.stats };
}
