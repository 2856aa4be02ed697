// The instrument file's `panels:` section: the dashboard's panel schema, defined by the server layer (one schema).
import { PanelsSection } from "../server/index.js";

/**
 * The `panels:` section as InstrumentFile uses it: an array of panels, each validated by its type's schema
 * (docs/dashboard.md lists them), default `[]` (the server then shows run control, components, rate, alarms, log).
 * @example export const InstrumentFile = z.strictObject({ ..., panels: PanelsSection, ... });
 */
export { PanelsSection };
export type { PanelInput, PanelSpec } from "../server/index.js";
