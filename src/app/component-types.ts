// The registry of component types an instrument file may name (`type:`): the composition root's one list.
import type { ComponentDef } from "../component/index.js";
import { ANALYSIS_COMPONENTS } from "../analysis/index.js";
import { timeWindowBuilderComponent } from "../builder/index.js";
import { demoCamera, demoSource, targetCSimComponent } from "../sim/index.js";
import { areaDetectorComponent, targetCSourceComponent } from "../sources/index.js";
import { hdf5WriterComponent, transferComponent } from "../storage/index.js";
import { LARPIX_COMPONENTS } from "../sim/index.js";
import { BEAMLINE_COMPONENTS } from "../sim/index.js";
import { jobsComponent } from "../jobs/index.js";
import { pmtSimComponent } from "../sim/index.js";
import { pmtScanComponent } from "../control/index.js";
import { areaDetectorSimComponent } from "../sim/index.js";

const ALL = [
  demoSource,
  demoCamera,
  targetCSimComponent,
  targetCSourceComponent,
  areaDetectorComponent,
  timeWindowBuilderComponent,
  hdf5WriterComponent,
  transferComponent,
  ...ANALYSIS_COMPONENTS,
  ...LARPIX_COMPONENTS,
  ...BEAMLINE_COMPONENTS,
  jobsComponent,
  pmtSimComponent,
  pmtScanComponent,
  areaDetectorSimComponent,
];

/** Every component type known to this build, by type name. */
export function componentTypes(): Map<string, ComponentDef<unknown>> {
  return new Map(ALL.map((d) => [d.type, d as unknown as ComponentDef<unknown>]));
}
