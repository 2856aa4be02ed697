// CHEC-S TARGET-C slow signal: the UDP source component, its module map, per-module counters and receiver.
export * from "./target-c-source.js";
export * from "./module-map.js";
export * from "./module-tracker.js";
export * from "./udp-receiver.js";
export * from "./chec-listener.js";
export * from "./native-udp-receiver.js";
