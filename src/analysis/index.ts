// The analysis layer: stream stages (rate, histogram, ROI sums, normalise, bin-by, averages, fits, quality rules).
export * from "./input-batch.js";
export * from "./stage-params.js";
export * from "./stage-runner.js";
export * from "./row-buffer.js";
export * from "./histogram-node.js";
export * from "./rate-node.js";
export * from "./roi-node.js";
export * from "./normalise-node.js";
export * from "./bin-by-node.js";
export * from "./average-node.js";
export * from "./fit-node.js";
export * from "./quality-node.js";
export * from "./components.js";
export * from "./roi-worker-pool.js";
export * from "./roi-worker-node.js";
export * from "./frame-average-node.js";
export * from "./pmt/index.js";
