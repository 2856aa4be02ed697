// The core layer's public surface: documents, errors, arrays, queues, the state table, run factories. No I/O.
export * from "./errors.js";
export * from "./ndarray.js";
export * from "./documents.js";
export * from "./states.js";
export * from "./queue.js";
export * from "./run-factory.js";
export * from "./counters.js";
export * from "./logger.js";
export * from "./stats.js";
export * from "./histogram.js";
export * from "./profile.js";
export * from "./rate.js";
export * from "./roi.js";
export * from "./fit.js";
export * from "./fit-histogram.js";
export * from "./fit-unbinned.js";
export * from "./byte-slab.js";
