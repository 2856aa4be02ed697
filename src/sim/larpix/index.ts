// LArPix data-board simulator: options, the simulator, its CLI runner and its component type.
export * from "./sim-options.js";
export * from "./sim-chips.js";
export * from "./larpix-board-sim.js";
export * from "./run-larpix-board-sim.js";
export * from "./larpix-board-sim-component.js";
export * from "./larpix-components.js";
