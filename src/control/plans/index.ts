// Plans: generators of typed steps run in the core (dry-runnable), and the PMT scan built on them.
export * from "./plan-steps.js";
export * from "./plan-recorder.js";
export * from "./plan-runner.js";
export * from "./core-registry.js";
export * from "./scan-points.js";
export * from "./scan-ledger.js";
export * from "./pmt-scan-plan.js";
export * from "./pmt-scan-component.js";
