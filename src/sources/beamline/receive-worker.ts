// Worker-thread entry of the beamline source: receives tags over ZeroMQ, decodes them and moves frames to shared memory.
import { parentPort, workerData } from "node:worker_threads";
import { Pull } from "zeromq";
import type { TagMessage } from "./tag-message.js";
import { decodeTagMessage } from "./tag-message.js";
import type { ReceiverInit, ToReceiver, FromReceiver } from "./tag-receiver.js";

const port = parentPort;
if (!port) throw new Error("receive-worker.js must run in a worker thread");
const init = workerData as ReceiverInit;
const post = (m: FromReceiver) => port.postMessage(m);

const pull = new Pull({ linger: 0, receiveHighWaterMark: init.receiveHighWaterMark });
let credits = init.inFlight;
let wake: (() => void) | undefined;

port.on("message", (m: ToReceiver) => {
  if (m.type === "ack") {
    credits++;
    wake?.();
  } else {
    pull.close();
    wake?.();
  }
});

/** The message with each frame copied once into fresh shared memory (analysis workers then read it in place). */
function share(msg: TagMessage): TagMessage {
  for (const d of msg.detectors) {
    const f = d.frame;
    if (!f) continue;
    const data = new Float32Array(new SharedArrayBuffer(f.data.length * 4));
    data.set(f.data as Float32Array);
    d.frame = { dtype: f.dtype, shape: f.shape, data };
  }
  return msg;
}

try {
  await pull.bind(init.listen);
  post({ type: "bound", endpoint: pull.lastEndpoint ?? init.listen });
} catch (err) {
  post({
    type: "failed",
    message: `cannot bind '${init.listen}': ${(err as Error).message} (is the port in use?)`,
  });
  pull.close();
}

while (!pull.closed) {
  // At most `inFlight` tags wait for the main thread; past that ZeroMQ's queue fills and the sender drops.
  while (credits <= 0 && !pull.closed) await new Promise<void>((r) => (wake = r));
  let frames: Buffer[];
  try {
    frames = await pull.receive();
  } catch (err) {
    if (!pull.closed) post({ type: "failed", message: `receive failed: ${(err as Error).message}` });
    break;
  }
  try {
    const msg = share(decodeTagMessage(frames));
    credits--;
    post({ type: "tag", msg });
  } catch (err) {
    post({ type: "invalid", message: (err as Error).message });
  }
}
post({ type: "closed" });
