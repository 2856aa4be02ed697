// Beamline (SACLA-like) source: tag messages, detector health, the source component and online access.
export * from "./framed-message.js";
export * from "./tag-message.js";
export * from "./beamline-params.js";
export * from "./detector-health.js";
export * from "./tag-publisher.js";
export * from "./beamline-source.js";
export * from "./tag-history.js";
export * from "./online-access.js";
export * from "./online-protocol.js";
export * from "./online-server.js";
export * from "./online-client.js";
export * from "./online-access-component.js";
export * from "./tag-receiver.js";
