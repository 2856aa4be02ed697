// The sources: one folder per hardware family (decoder + source component).
export * from "./target-c/index.js";
export * from "./area-detector/index.js";
export * from "./larpix/index.js";
export * from "./beamline/index.js";
