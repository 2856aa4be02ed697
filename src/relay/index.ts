// The relay between two networks (MEC's psmeclogin): DAQ arm messages, the detector-side agent, TCP forwards.
export * from "./relay-server.js";
export * from "./relay-agent.js";
export * from "./relay-stats.js";
export * from "./daq-session.js";
export * from "./detector-hub.js";
export * from "./tcp-forward.js";
export * from "./link-framing.js";
export * from "./arm-to-run.js";
