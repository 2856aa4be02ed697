// Worker-thread entry of the beamline source: receives tags over ZeroMQ, decodes them, moves them to the main thread.
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

/**
 * The frames' memory, moved (not copied) to the main thread: a received ZeroMQ frame owns its ArrayBuffer, so it
 * is transferred as it is; a frame that shares one (small or misaligned messages) is copied into its own first.
 */
function movable(msg: TagMessage): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const d of msg.detectors) {
    const f = d.frame;
    if (!f) continue;
    let data = f.data as Float32Array;
    const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    if (!own || data.buffer instanceof SharedArrayBuffer || out.includes(data.buffer as ArrayBuffer)) {
      data = data.slice();
      d.frame = { dtype: f.dtype, shape: f.shape, data };
    }
    out.push(data.buffer as ArrayBuffer);
  }
  return out;
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
    const msg = decodeTagMessage(frames);
    const transfer = movable(msg);
    credits--;
    port.postMessage({ type: "tag", msg } satisfies FromReceiver, transfer);
  } catch (err) {
    post({ type: "invalid", message: (err as Error).message });
  }
}
post({ type: "closed" });
