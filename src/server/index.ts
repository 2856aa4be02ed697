// The server layer: the dashboard's HTTP + WebSocket server, its panels and binary monitor frames.
export * from "./dashboard-server.js";
export * from "./panel-schema.js";
export * from "./monitor-frame.js";
export * from "./access.js";
export * from "./control-bodies.js";
export * from "./live-rois.js";
export * from "./monitor-hub.js";
