// The codecs layer: the document wire codec and hardware formats (no sockets here).
export * from "./wire.js";
export * from "./target-c.js";
