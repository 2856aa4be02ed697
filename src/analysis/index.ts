// The analysis layer: stream stages (rate, histogram, ROI sums, normalise, bin-by, averages, fits, quality rules).
export * from "./input-batch.js";
export * from "./stage-params.js";
export * from "./stage-runner.js";
export * from "./row-buffer.js";
export * from "./histogram-node.js";
export * from "./rate-node.js";
export * from "./roi-node.js";
