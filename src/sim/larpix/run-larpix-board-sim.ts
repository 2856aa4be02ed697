// `hutch sim larpix-board`: runs one simulated LArPix data board until aborted, reporting what it sent.
import { LarpixBoardSim, type LarpixBoardSimStats } from "./larpix-board-sim.js";
import type { LarpixBoardSimInput } from "./sim-options.js";

/** How runLarpixBoardSim reports. */
export interface RunLarpixBoardSimHooks {
  /** Ends the simulator (Ctrl-C in the CLI). */
  readonly signal?: AbortSignal;
  /** Called once the sockets are bound, with their addresses. */
  readonly ready?: (addresses: { command: string; data: string }) => void;
  /** Called every `reportMs` with the stats so far, and once at the end. */
  readonly report?: (stats: Readonly<LarpixBoardSimStats>) => void;
  readonly reportMs?: number;
}

/**
 * Opens a simulated board, serves until `signal` aborts, then closes both sockets and resolves with the stats.
 * @example
 * const ac = new AbortController(); process.once("SIGINT", () => ac.abort());
 * await runLarpixBoardSim({ commandPort: 5555, dataPort: 5556, rateHz: 500 }, { signal: ac.signal, report: console.log });
 */
export async function runLarpixBoardSim(
  opts: LarpixBoardSimInput,
  hooks: RunLarpixBoardSimHooks = {},
): Promise<LarpixBoardSimStats> {
  const sim = await LarpixBoardSim.open(opts);
  let timer: NodeJS.Timeout | undefined;
  try {
    hooks.ready?.({ command: sim.commandAddress, data: sim.dataAddress });
    if (hooks.report) timer = setInterval(() => hooks.report?.({ ...sim.stats }), hooks.reportMs ?? 5000);
    await new Promise<void>((resolve) => {
      if (hooks.signal?.aborted) return resolve();
      hooks.signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  } finally {
    if (timer) clearInterval(timer);
    await sim.close();
  }
  hooks.report?.({ ...sim.stats });
  return { ...sim.stats };
}
