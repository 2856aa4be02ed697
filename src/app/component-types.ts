// The registry of component types an instrument file may name (`type:`): the composition root's one list.
import type { ComponentDef } from "../component/index.js";
import { demoSource } from "../sim/index.js";

/** Every component type known to this build, by type name. */
export function componentTypes(): Map<string, ComponentDef<unknown>> {
  const defs: ComponentDef<never>[] = [demoSource as ComponentDef<never>];
  return new Map(defs.map((d) => [d.type, d as unknown as ComponentDef<unknown>]));
}
