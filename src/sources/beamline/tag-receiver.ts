// The receiving end of the beamline source: a worker thread takes tags off ZeroMQ; the main thread only publishes.
import { Worker } from "node:worker_threads";
import { workerUrl } from "../../component/index.js";
import { ErrorCode, HutchError } from "../../core/index.js";
import type { TagMessage } from "./tag-message.js";

/** What the receive worker starts with. */
export interface ReceiverInit {
  readonly listen: string;
  readonly receiveHighWaterMark: number;
  /** Tags handed to the main thread and not yet acknowledged, at most. */
  readonly inFlight: number;
}

/** Main thread -> receive worker. */
export type ToReceiver = { readonly type: "ack" } | { readonly type: "close" };

/** Receive worker -> main thread. */
export type FromReceiver =
  | { readonly type: "bound"; readonly endpoint: string }
  | { readonly type: "tag"; readonly msg: TagMessage }
  | { readonly type: "invalid"; readonly message: string }
  | { readonly type: "failed"; readonly message: string }
  | { readonly type: "closed" };

/** What the receiver calls: each tag in order (awaited before the next), rejected messages, a fatal failure. */
export interface TagHandlers {
  tag(msg: TagMessage): Promise<void>;
  invalid(message: string): void;
  failed(err: HutchError): void;
}

/**
 * Binds a PULL socket in a worker thread, which decodes each tag message and moves it to the main thread with
 * its frames' memory transferred, not copied (a received frame owns its buffer); the main thread hands the
 * tags to `handlers.tag` one at a time. Frames are ordinary ArrayBuffers, so V8 accounts for them and collects
 * them promptly (shared memory is not accounted: 60 frames a second of it piled up to gigabytes). At most `inFlight` tags wait for the main thread: past that the worker stops
 * reading and ZeroMQ's queue (`receiveHighWaterMark`) fills, so a slow main thread makes the sender drop
 * (counted there), never this process grow.
 * @example const rx = await TagReceiver.open({ listen: "tcp://127.0.0.1:5580", receiveHighWaterMark: 64, inFlight: 8 }, handlers);
 */
export class TagReceiver {
  /** Tags received, and messages rejected (malformed). */
  readonly stats = { tags: 0, invalid: 0 };
  private chain: Promise<void> = Promise.resolve();
  private closing = false;
  private exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    /** The bound address (a port 0 resolved). */
    readonly endpoint: string,
  ) {
    this.exited = new Promise((r) => worker.once("exit", () => r()));
  }

  /** Starts the worker and binds; throws HUTCH_ERR_IO naming the address when it cannot. */
  static async open(init: ReceiverInit, handlers: TagHandlers): Promise<TagReceiver> {
    const worker = new Worker(workerUrl("receive-worker.js", import.meta.url), { workerData: init });
    const endpoint = await new Promise<string>((resolve, reject) => {
      const onMsg = (m: FromReceiver) => {
        if (m.type === "bound") resolve(m.endpoint);
        else if (m.type === "failed") reject(new HutchError(ErrorCode.Io, `beamline source: ${m.message}`));
      };
      worker.once("message", onMsg);
      worker.once("error", (err) =>
        reject(new HutchError(ErrorCode.Internal, `beamline receive worker: ${err.message}`, { cause: err })),
      );
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    });
    const rx = new TagReceiver(worker, endpoint);
    worker.on("message", (m: FromReceiver) => rx.onMessage(m, handlers));
    worker.on("error", (err) =>
      handlers.failed(
        new HutchError(ErrorCode.Internal, `beamline receive worker crashed: ${err.message}`, { cause: err }),
      ),
    );
    worker.on("exit", (code) => {
      if (!rx.closing)
        handlers.failed(new HutchError(ErrorCode.Internal, `beamline receive worker exited (code ${code})`));
    });
    return rx;
  }

  /** Resolves once every tag handed over so far has been handled. */
  idle(): Promise<void> {
    return this.chain;
  }

  private onMessage(m: FromReceiver, h: TagHandlers): void {
    if (m.type === "tag") {
      this.stats.tags++;
      this.chain = this.chain
        .then(() => h.tag(m.msg))
        .catch((err: unknown) => h.invalid((err as Error).message))
        .finally(() => {
          if (!this.closing) this.worker.postMessage({ type: "ack" } satisfies ToReceiver);
        });
    } else if (m.type === "invalid") {
      this.stats.invalid++;
      h.invalid(m.message);
    } else if (m.type === "failed" && !this.closing) {
      h.failed(new HutchError(ErrorCode.Io, `beamline source ${this.endpoint}: ${m.message}`));
    }
  }

  /** Closes the socket and ends the worker (tags already handed over are still handled first). */
  async close(): Promise<void> {
    if (this.closing) return;
    await this.chain;
    this.closing = true;
    this.worker.postMessage({ type: "close" } satisfies ToReceiver);
    const timer = setTimeout(() => void this.worker.terminate(), 2000);
    await this.exited;
    clearTimeout(timer);
  }
}
