// The simulators: one folder per hardware family, each speaking its hardware's protocol.
export * from "./demo/demo-source.js";
export * from "./target-c/index.js";
export * from "./demo/demo-camera.js";
export * from "./area-detector/index.js";
export * from "./larpix/index.js";
export * from "./beamline/index.js";
export * from "./pmt/index.js";
export * from "./run-simulator.js";
