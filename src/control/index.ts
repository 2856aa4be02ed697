// The control layer: the run-control core, its catalog and watchdogs, the ZeroMQ server and the operator client.
export * from "./api-types.js";
export * from "./catalog.js";
export * from "./progress.js";
export * from "./registry.js";
export * from "./watchdogs.js";
export * from "./run-control.js";
export * from "./serve.js";
export * from "./client.js";
export * from "./phases.js";
export * from "./component-table.js";
export * from "./replay.js";
export * from "./plans/index.js";
export * from "./telemetry.js";
export * from "./run-control-options.js";
