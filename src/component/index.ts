// The component layer: the contract every component implements and the runtime that hosts it.
export * from "./types.js";
export * from "./protocol.js";
export * from "./inproc-link.js";
export * from "./host.js";
export * from "./zmq-link.js";
export * from "./worker-url.js";
export * from "./page-publisher.js";
