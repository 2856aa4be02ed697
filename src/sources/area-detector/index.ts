// Area detectors (Varex at MEC): the source component, its frame plan, background, watchdog and detector link.
export * from "./area-detector-source.js";
export * from "./area-detector-fields.js";
export * from "./acquisition.js";
export * from "./frame-plan.js";
export * from "./background.js";
export * from "./background-store.js";
export * from "./trigger-watchdog.js";
export * from "./resource-check.js";
export * from "./detector-link.js";
