// The storage layer: HDF5 run files (writer component, layout plug-ins, replay reader, crash recovery).
export * from "./h5-types.js";
export * from "./layout.js";
export * from "./layout-registry.js";
export * from "./generic-layout.js";
export * from "./file-pattern.js";
export * from "./storage-failure.js";
export * from "./run-files.js";
export * from "./superblock.js";
export * from "./hdf5-writer.js";
export * from "./hdf5-writer-component.js";
export * from "./read-run-file.js";
export * from "./recover.js";
export * from "./replay-run.js";
export * from "./layouts/larpix-v1.js";
export * from "./hdf5-writer-options.js";
export * from "./transfer/index.js";
export * from "./layouts/chec-ssdaq.js";
