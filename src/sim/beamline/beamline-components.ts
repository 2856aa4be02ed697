// Every component of the beamline family (simulator, source, online access), for the registry of component types.
import { beamlineSourceComponent, onlineAccessComponent } from "../../sources/index.js";
import { beamlineSimComponent } from "./sim-component.js";

/** `beamline-sim`, `beamline-source`, `online-access`. */
export const BEAMLINE_COMPONENTS = [
  beamlineSimComponent,
  beamlineSourceComponent,
  onlineAccessComponent,
] as const;
