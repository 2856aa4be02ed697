// The writer's worker thread: posts batches (arenas transferred), tracks them until answered, replaces a failed worker.
import { Worker } from "node:worker_threads";
import { ErrorCode, HutchError, toHutchError } from "../core/index.js";
import type { ArenaPool } from "./write-batch.js";
import type { Batch, BatchReply, WorkerReady } from "./worker-protocol.js";
import { workerUrl } from "../component/index.js";

/** What the owner hears from its worker. */
export interface WriterWorkerEvents<M> {
  /** A batch was answered; `meta` is what `post` was given. */
  reply(r: BatchReply, meta: M | undefined): void;
  /** The worker thread crashed or exited on its own. */
  died(err: HutchError): void;
}

/**
 * Runs `hdf5-worker.js` (h5wasm) in a worker thread. Batches are posted with their arena transferred; the
 * arena comes back with the reply into the pool. `replace()` abandons a worker after a failure (its HDF5 state is
 * never flushed again) and starts a fresh one; answers of a replaced worker are ignored.
 */
export class WriterWorker<M> {
  private worker!: Worker;
  private readyPromise!: Promise<void>;
  /** The HDF5 library the worker writes with (known once ready). */
  backendDescription = "";
  private readonly inFlight = new Map<number, M>();
  private waiters: (() => void)[] = [];
  private terminated = false;

  constructor(
    private readonly pool: ArenaPool,
    private readonly events: WriterWorkerEvents<M>,
  ) {
    this.start();
  }

  /** Resolves once h5wasm is loaded in the current worker; rejects if it cannot start. */
  get ready(): Promise<void> {
    return this.readyPromise;
  }

  /** Batches posted and not yet answered. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Posts a batch; its arena is transferred or shared (the caller must not touch it until the reply). */
  post(b: Batch, meta: M): void {
    this.inFlight.set(b.id, meta);
    this.worker.postMessage(b, b.arena instanceof ArrayBuffer ? [b.arena] : []);
  }

  /** Resolves at the next answer (or replacement). */
  nextReply(): Promise<void> {
    return new Promise<void>((r) => this.waiters.push(r));
  }

  /** Calls `fn` once no batch is in the worker. */
  whenIdle(fn: () => void): void {
    if (this.inFlight.size === 0) return fn();
    this.waiters.push(() => this.whenIdle(fn));
  }

  /** Resolves once no batch is in the worker. */
  idle(): Promise<void> {
    return new Promise<void>((r) => this.whenIdle(r));
  }

  /** Abandons the current worker (after a failure) and starts a new one; batches in flight are forgotten. */
  replace(): void {
    const old = this.worker;
    this.inFlight.clear();
    this.start();
    void old.terminate();
    this.wake();
  }

  /** Stops the worker for good. */
  async terminate(): Promise<void> {
    this.terminated = true;
    await this.worker.terminate();
    this.wake();
  }

  private start(): void {
    const w = new Worker(workerUrl("hdf5-worker.js", import.meta.url));
    this.worker = w;
    let ready!: () => void;
    let broken!: (e: unknown) => void;
    this.readyPromise = new Promise<void>((resolve, reject) => {
      ready = resolve;
      broken = reject;
    });
    this.readyPromise.catch(() => undefined);
    w.on("message", (r: BatchReply | WorkerReady) => {
      if (w !== this.worker) return;
      if ("ready" in r) {
        this.backendDescription = r.backend;
        return ready();
      }
      this.pool.give(r.arena);
      const meta = this.inFlight.get(r.id);
      this.inFlight.delete(r.id);
      this.events.reply(r, meta);
      this.wake();
    });
    const died = (err: HutchError) => {
      if (w !== this.worker || this.terminated) return;
      broken(err);
      this.events.died(err);
    };
    w.on("error", (err) => died(toHutchError(err, ErrorCode.Io)));
    w.on("exit", (code) => died(new HutchError(ErrorCode.Io, `HDF5 writer worker exited (code ${code})`)));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
