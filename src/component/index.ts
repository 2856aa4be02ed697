// The component layer: the contract every component implements and the runtime that hosts it.
export * from "./types.js";
