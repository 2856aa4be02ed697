// `hutch sim area-detector`: runs the detector simulator (and optionally its trigger generator) until aborted.
import { AreaDetectorSim, type AreaDetectorSimStats } from "./area-detector-sim.js";
import type { AreaDetectorSimInput, TriggerGeneratorInput } from "./sim-options.js";
import { TriggerGenerator } from "./trigger-generator.js";

/** How runAreaDetectorSim reports and ends. */
export interface RunAreaDetectorSimHooks {
  readonly signal?: AbortSignal;
  /** Called once the sockets are bound, with their addresses. */
  readonly ready?: (addresses: { frames: string; triggers: string }) => void;
  readonly report?: (stats: Readonly<AreaDetectorSimStats>, triggersSent: number) => void;
  readonly reportMs?: number;
}

/**
 * Opens the simulator and, when `trigger` is given, a trigger generator aimed at it; runs until `signal` aborts,
 * then closes everything and resolves with the final stats.
 * @example await runAreaDetectorSim({ width: 2880, height: 2880 }, { rateHz: 1, shotEvery: 12 }, { signal });
 */
export async function runAreaDetectorSim(
  opts: AreaDetectorSimInput,
  trigger: Omit<TriggerGeneratorInput, "to"> | undefined,
  hooks: RunAreaDetectorSimHooks = {},
): Promise<AreaDetectorSimStats> {
  const sim = await AreaDetectorSim.open(opts);
  let tg: TriggerGenerator | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    hooks.ready?.({ frames: sim.address, triggers: sim.triggerAddress });
    if (trigger) {
      tg = await TriggerGenerator.open({ ...trigger, to: sim.triggerAddress });
      tg.start();
    }
    if (hooks.report)
      timer = setInterval(() => hooks.report?.({ ...sim.stats }, tg?.sent ?? 0), hooks.reportMs ?? 5000);
    await new Promise<void>((resolve) => {
      if (hooks.signal?.aborted) return resolve();
      hooks.signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  } finally {
    if (timer) clearInterval(timer);
    await tg?.close();
    await sim.close();
  }
  hooks.report?.({ ...sim.stats }, tg?.sent ?? 0);
  return { ...sim.stats };
}
