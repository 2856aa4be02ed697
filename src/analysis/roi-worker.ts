// Worker-thread entry of the roi-sum-worker stage: ROI sums of frames (staged or shared), off the event loop.
import { parentPort } from "node:worker_threads";
import { roiSum, type RoiMask } from "../core/index.js";
import type { RoiWorkerJob, RoiWorkerReply } from "./roi-worker-pool.js";

const port = parentPort;
if (!port) throw new Error("roi-worker.js must run in a worker thread");

port.on("message", (job: RoiWorkerJob) => {
  const t0 = performance.now();
  let reply: RoiWorkerReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const { data, frames, width, height, spans, gains, threshold } = job;
    const size = width * height;
    if (data.length < frames * size) {
      throw new Error(
        `${frames} frames of ${height} x ${width} need ${frames * size} pixels, got ${data.length}`,
      );
    }
    const masks: RoiMask[] = spans.map((s) => ({ width, height, spans: s, pixels: 0 }));
    const sums = new Float64Array(masks.length * frames);
    for (let f = 0; f < frames; f++) {
      const t = { gain: typeof gains === "number" ? gains : gains[f]!, threshold: threshold ?? -Infinity };
      for (let k = 0; k < masks.length; k++) sums[k * frames + f] = roiSum(data, f * size, masks[k]!, t);
    }
    reply = { id: job.id, sums, busyMs: performance.now() - t0 };
    transfer = [sums.buffer];
  } catch (err) {
    reply = { id: job.id, error: (err as Error).message, busyMs: performance.now() - t0 };
  }
  // A staging buffer (moved here with the job) goes back for the next job; shared memory stays where it is.
  const buf = job.data.buffer;
  if (!(buf instanceof SharedArrayBuffer)) {
    reply = { ...reply, staging: buf as ArrayBuffer };
    transfer.push(buf as ArrayBuffer);
  }
  port.postMessage(reply, transfer);
});

port.postMessage({ ready: true });

export {};
