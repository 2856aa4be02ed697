// Layout plug-ins by name: the generic layout is built in; instrument layouts register theirs at start-up.
import { ErrorCode, HutchError } from "../core/index.js";
import { genericLayout } from "./generic-layout.js";
import type { LayoutFactory } from "./layout.js";

const factories = new Map<string, LayoutFactory>([["generic", genericLayout]]);

/**
 * Registers a layout under a name usable in the `hdf5-writer` params (`layouts: [generic, chec-s]`).
 * Throws HUTCH_ERR_CONFIG when the name is taken.
 * @example registerLayout("larpix", larpixLayout);
 */
export function registerLayout(name: string, factory: LayoutFactory): void {
  if (factories.has(name))
    throw new HutchError(ErrorCode.Config, `a file layout named '${name}' is already registered`);
  factories.set(name, factory);
}

/** The layout registered under `name`; throws HUTCH_ERR_CONFIG listing the known names. */
export function layoutFactory(name: string): LayoutFactory {
  const f = factories.get(name);
  if (!f) {
    throw new HutchError(
      ErrorCode.Config,
      `unknown file layout '${name}' (known: ${[...factories.keys()].join(", ")})`,
    );
  }
  return f;
}

/** Names of the registered layouts. */
export function layoutNames(): string[] {
  return [...factories.keys()];
}
