// Every LArPix component type (board source, monitor, simulated board), for the composition root's registry.
import { larpixBoardComponent, larpixMonitorComponent } from "../../sources/index.js";
import { larpixBoardSimComponent } from "./larpix-board-sim-component.js";

/**
 * The LArPix component types: `larpix-board` (source), `larpix-monitor` (last packets and messages) and
 * `larpix-board-sim` (a simulated board inside `hutch up`). Kept here because only `sim/` may see `sources/`.
 * @example const types = new Map(LARPIX_COMPONENTS.map((d) => [d.type, d]));
 */
export const LARPIX_COMPONENTS = [
  larpixBoardComponent,
  larpixMonitorComponent,
  larpixBoardSimComponent,
] as const;
