// Hook phases: components are driven by role (sinks, stages, sources) so no data is lost at run boundaries.
import { toHutchError, type RunFile, type RunInfo, type StopReport } from "../core/index.js";
import type { ComponentEntry } from "./registry.js";

/** Role ranks: sinks first when starting, sources first when stopping. */
const ROLE_ORDER = { sink: 0, stage: 1, source: 2 } as const;
/** A role. */
export type Role = keyof typeof ROLE_ORDER;

/**
 * Runs a hook on every component, one role at a time (in parallel within a role); throws the first failure.
 * `sinks-first` (start, resume, reset): storage is ready before data flows; `sources-first` (pause, stop).
 */
export async function hookInOrder(
  components: readonly ComponentEntry[],
  hook: "start" | "pause" | "resume" | "stop" | "reset",
  order: "sinks-first" | "sources-first",
  timeoutMs: number,
  say: (m: string) => void,
  extra: { run?: RunInfo } = {},
): Promise<void> {
  const sign = order === "sinks-first" ? 1 : -1;
  const ranks = [...new Set(components.map((c) => sign * ROLE_ORDER[c.hello.role]))].sort((a, b) => a - b);
  for (const rank of ranks) {
    await Promise.all(
      components
        .filter((c) => sign * ROLE_ORDER[c.hello.role] === rank)
        .map(async (c) => {
          await c.request({ t: "hook", hook, ...extra }, timeoutMs);
          say(`${c.name}: ${hook} done`);
        }),
    );
  }
}

/**
 * Stops the components of some roles in parallel, never throwing: collects the files their stop reports name
 * and the failures (each naming its component), for the run-stop document and the catalog.
 */
export async function stopRoles(
  components: readonly ComponentEntry[],
  roles: readonly Role[],
  timeoutMs: number,
  say: (m: string) => void,
): Promise<{ files: RunFile[]; errors: string[] }> {
  const files: RunFile[] = [];
  const errors: string[] = [];
  const stopOne = async (c: ComponentEntry): Promise<void> => {
    try {
      const report = (await c.request({ t: "hook", hook: "stop" }, timeoutMs)) as StopReport | null;
      for (const f of report?.files ?? []) files.push({ ...f, component: c.name });
      say(`${c.name}: stopped`);
    } catch (err) {
      errors.push(toHutchError(err).message);
    }
  };
  const chosen = components.filter((c) => roles.includes(c.hello.role));
  if (roles.length === 1 && roles[0] === "stage") {
    // Stages feed each other: stopped one by one in registration (file) order, upstream first, so each one's
    // final output reaches the next before it stops.
    for (const c of chosen) await stopOne(c);
  } else {
    await Promise.all(chosen.map(stopOne));
  }
  return { files, errors };
}
