// Runs any simulator in real time until aborted or done, reporting its stats periodically and at the end.

/** What {@link runSimulator} drives: a simulator that starts, may finish by itself, and closes. */
export interface RunnableSim<S extends object> {
  readonly stats: S;
  /** Starts sending; calls `onDone` when the simulator's own count or duration is reached. */
  start(onDone: () => void): void;
  /** Stops sending and flushes what it holds back (optional). */
  stop?(): Promise<void>;
  /** Resolves once everything handed to the sockets has gone out (optional). */
  sent?(): Promise<void>;
  close(): Promise<void>;
}

/** How a simulator run ends and reports. */
export interface RunSimHooks<S extends object> {
  /** Ends the run (Ctrl-C in the CLI). */
  readonly signal?: AbortSignal;
  /** Called every `reportMs` with the stats so far, and once at the end. */
  readonly report?: (stats: Readonly<S>) => void;
  readonly reportMs?: number;
}

/**
 * Starts `sim`, waits until `signal` aborts or the simulator is done, stops and closes it (always), and resolves
 * with the final stats.
 * @example const stats = await runSimulator(await TargetCSim.open(opts), { signal, report: console.error });
 */
export async function runSimulator<S extends object>(
  sim: RunnableSim<S>,
  hooks: RunSimHooks<S> = {},
): Promise<S> {
  let timer: NodeJS.Timeout | undefined;
  try {
    if (hooks.report) timer = setInterval(() => hooks.report?.({ ...sim.stats }), hooks.reportMs ?? 5000);
    await new Promise<void>((resolve) => {
      if (hooks.signal?.aborted) return resolve();
      hooks.signal?.addEventListener("abort", () => resolve(), { once: true });
      sim.start(resolve);
    });
    await sim.stop?.();
    await sim.sent?.();
  } finally {
    if (timer) clearInterval(timer);
    await sim.close();
  }
  hooks.report?.({ ...sim.stats });
  return { ...sim.stats };
}
