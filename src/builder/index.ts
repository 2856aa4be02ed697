// The builder layer: generic event building (by time window), as pure logic and as components.
export * from "./time-window-builder.js";
export * from "./time-window-component.js";
