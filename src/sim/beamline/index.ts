// Beamline simulator (SACLA-like): options, frame synthesis, the tag sender, its component and CLI entry.
export * from "./sim-options.js";
export * from "./frame-synth.js";
export * from "./beamline-sim.js";
export * from "./sim-component.js";
export * from "./run-beamline-sim.js";
export * from "./beamline-components.js";
