// PMT gain analysis: a scan point's fit and histogram, point and result files, the HV check.
export * from "./pmt-point-analysis.js";
export * from "./pmt-point-file.js";
export * from "./hv-check.js";
