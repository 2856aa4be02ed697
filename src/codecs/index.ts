// The codecs layer: the document wire codec and hardware formats (no sockets here).
export * from "./wire.js";
export * from "./target-c.js";
export * from "./arm-message.js";
export * from "./area-detector-json-splitter.js";
export * from "./area-detector-frame.js";
export * from "./area-detector-tiff.js";
export * from "./area-detector-npy.js";
export * from "./larpix-packet.js";
export * from "./larpix-packet-batch.js";
export * from "./larpix-chip-key.js";
export * from "./larpix-board-message.js";
export * from "./larpix-daq-record.js";
export * from "./larpix-config.js";
