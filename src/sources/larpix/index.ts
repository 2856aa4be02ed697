// LArPix (replaces larpix-daq): board links, the board source with its controller and routines, the monitor, the operator API.
export * from "./board-link.js";
export * from "./board-watchdog.js";
export * from "./pixel-layout.js";
export * from "./packet-streams.js";
export * from "./packet-receiver.js";
export * from "./larpix-controller.js";
export * from "./routines/index.js";
export * from "./routine-host.js";
export * from "./larpix-board-params.js";
export * from "./larpix-board-actions.js";
export * from "./larpix-board-source.js";
export * from "./larpix-monitor.js";
export * from "./larpix-operator.js";
