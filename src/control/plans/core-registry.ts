// Finds the run-control core of a process from its bus, so a component hosted there can run plans in the core.
import type { InprocBus } from "../../transport/index.js";
import type { OperatorApi } from "../api-types.js";
import type { RunCatalog } from "../catalog.js";

/** What a plan host needs of the core (a RunControl is one): the operator API and the run catalog. */
export type CoreHandle = Pick<OperatorApi, "command" | "call" | "status"> & { readonly catalog: RunCatalog };

const cores = new WeakMap<InprocBus, CoreHandle>();

/**
 * Makes the core reachable from components on its bus (RunControl calls this once, in its constructor; tests that
 * build a core by hand call it themselves). A second core on the same bus replaces the first.
 * @example registerCore(bus, core); // core: a RunControl, which has `catalog`
 */
export function registerCore(bus: InprocBus, core: CoreHandle): void {
  cores.set(bus, core);
}

/** Forgets the core of a bus (at its close). */
export function unregisterCore(bus: InprocBus, core: CoreHandle): void {
  if (cores.get(bus) === core) cores.delete(bus);
}

/** The core of this bus, if it runs in this process. */
export function coreOf(bus: InprocBus): CoreHandle | undefined {
  return cores.get(bus);
}
