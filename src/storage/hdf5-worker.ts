// Worker-thread entry of the HDF5 writer: h5wasm calls block, so they run here, never on the event loop.
import { parentPort } from "node:worker_threads";
import { H5FileOps } from "./h5-file-ops.js";
import { StorageFailure } from "./storage-failure.js";
import type { Batch, BatchReply, WorkerReady } from "./worker-protocol.js";

const port = parentPort;
if (!port) throw new Error("hdf5-worker.js must run in a worker thread");

const ops = await H5FileOps.create();
let broken: BatchReply | undefined;

port.on("message", (batch: Batch) => {
  let reply: BatchReply;
  if (batch.newRun) broken = undefined;
  if (broken) {
    // After a failure the file is abandoned; later batches get the same answer (the run is going to ERROR).
    reply = { ...broken, id: batch.id };
  } else {
    try {
      const t0 = performance.now();
      const r = ops.apply(batch);
      const busyMs = performance.now() - t0;
      reply = { id: batch.id, ok: true, fileBytes: r.fileBytes, appendedBytes: r.appendedBytes, busyMs };
    } catch (err) {
      const f = err instanceof StorageFailure ? err : new StorageFailure(undefined, "write", err);
      ops.abandon();
      reply = {
        id: batch.id,
        ok: false,
        message: f.message,
        detail: f.detail,
        ...(f.path ? { path: f.path } : {}),
        ...(f.os ? { os: f.os } : {}),
      };
      broken = reply;
    }
  }
  const arena = batch.arena;
  port.postMessage(arena ? { ...reply, arena } : reply, arena instanceof ArrayBuffer ? [arena] : []);
});

port.postMessage({ ready: true, backend: ops.backend.description } satisfies WorkerReady);

export {};
