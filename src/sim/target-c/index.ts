// CHEC-S TARGET-C camera simulator: options schema, the simulator class and the CLI entry `runTargetCSim`.
export * from "./sim-options.js";
export * from "./target-c-sim.js";
export * from "./run-target-c-sim.js";
export * from "./sim-component.js";
