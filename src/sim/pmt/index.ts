// The PMT test stand simulator: pulses per scan point, point files, the `pmt-sim` component.
export * from "./pmt-pulses.js";
export * from "./pmt-sim-params.js";
export * from "./pmt-point-writer.js";
export * from "./pmt-sim-component.js";
export * from "./pmt-scan-files.js";
