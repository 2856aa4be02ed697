// Verified transfer of run files to remote storage: remote backends, the persistent queue, the copier, the component.
export * from "./remote-store.js";
export * from "./local-remote.js";
export * from "./ssh-remote.js";
export * from "./transfer-queue.js";
export * from "./transferer.js";
export * from "./run-sources.js";
export * from "./transfer-component.js";
export * from "./remote-scripts.js";
export * from "./sftp-remote.js";
