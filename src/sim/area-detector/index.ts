// Area-detector simulator: the detector (frames over TCP, idle free-run), its trigger generator, the CLI entry.
export * from "./sim-options.js";
export * from "./frame-synth.js";
export * from "./trigger-generator.js";
export * from "./area-detector-sim.js";
export * from "./run-area-detector-sim.js";
export * from "./sim-component.js";
