// The transport layer: the in-process bus and network transports (ZeroMQ). Knows no instrument.
export * from "./bus.js";
export * from "./control-socket.js";
