// A pool of worker threads summing ROIs of frames: shared memory goes as is, other frames are copied once and moved.
import { Worker } from "node:worker_threads";
import { workerUrl } from "../component/index.js";
import { ErrorCode, HutchError, type TypedArray } from "../core/index.js";

/** Pixel arrays the workers read (64-bit integer frames arrive as float64 from InputBatch). */
export type PixelArray = Exclude<TypedArray, BigInt64Array | BigUint64Array>;

/** One batch of frames for a worker: `frames` images of `width` x `height`, back to back in `data`. */
export interface RoiWorkerJob {
  readonly id: number;
  readonly data: PixelArray;
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  /** Row spans of each ROI mask (`RoiMask.spans`). */
  readonly spans: readonly Int32Array[];
  /** One gain for every frame, or one per frame. */
  readonly gains: number | Float64Array;
  readonly threshold: number | undefined;
}

/**
 * A worker's answer: sums `[roi k][frame f]` at `k * frames + f`, or the error that stopped it; `staging` is the
 * job's staging buffer, moved back for the next job.
 */
export type RoiWorkerReply = (
  | { readonly id: number; readonly sums: Float64Array; readonly busyMs: number }
  | { readonly id: number; readonly error: string; readonly busyMs: number }
) & { readonly staging?: ArrayBuffer };

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve: (r: Float64Array) => void; reject: (e: Error) => void }>;
}

/**
 * Worker threads that sum ROIs, each job to the worker with the fewest in flight. Frames in a SharedArrayBuffer
 * are shared as they are; others are copied once into a staging buffer that moves to the worker and back with
 * the answer, then serves the next job (so no frame-sized allocation per job). A worker that dies fails its jobs and every
 * later one with HUTCH_ERR_INTERNAL (`failed` says why). `close()` terminates the workers.
 * @example
 * const pool = new RoiWorkerPool(2);
 * const sums = await pool.submit({ data, frames: 1, width: 1024, height: 512, spans: [m.spans], gains: 1, threshold: 273.97 });
 */
export class RoiWorkerPool {
  /** Milliseconds the workers spent summing. */
  busyMs = 0;
  /** Frames copied because they were not in shared memory. */
  copiedFrames = 0;
  /** Why the pool stopped working, once it has. */
  failed: Error | undefined;
  private readonly slots: Slot[] = [];
  private next = 1;
  private inFlightNow = 0;
  private spaceWaiters: (() => void)[] = [];
  private closing = false;
  /** Staging buffers back from the workers, free for the next job (at most one per job in flight). */
  private readonly free: ArrayBuffer[] = [];

  constructor(
    readonly size: number,
    private readonly onFailure: (err: Error) => void = () => undefined,
  ) {
    const url = workerUrl("roi-worker.js", import.meta.url);
    for (let i = 0; i < size; i++) {
      const slot: Slot = { worker: new Worker(url), pending: new Map() };
      slot.worker.on("message", (m: RoiWorkerReply | { ready: true }) => this.reply(slot, m));
      slot.worker.on("error", (err) =>
        this.fail(
          new HutchError(ErrorCode.Internal, `ROI worker ${i} crashed: ${err.message}`, { cause: err }),
        ),
      );
      slot.worker.on("exit", (code) => {
        if (!this.closing)
          this.fail(new HutchError(ErrorCode.Internal, `ROI worker ${i} exited (code ${code})`));
      });
      this.slots.push(slot);
    }
  }

  /** Jobs submitted and not answered yet. */
  get inFlight(): number {
    return this.inFlightNow;
  }

  /** Resolves once fewer than `limit` jobs are in flight (at once if already so). */
  async whenBelow(limit: number): Promise<void> {
    while (this.inFlightNow >= limit && !this.failed)
      await new Promise<void>((r) => this.spaceWaiters.push(r));
  }

  /** Sums the ROIs of a batch of frames in a worker. */
  submit(job: Omit<RoiWorkerJob, "id">): Promise<Float64Array> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.closing) return Promise.reject(new HutchError(ErrorCode.Closed, "ROI worker pool is closed"));
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.next++;
    let data = job.data;
    const transfer: ArrayBuffer[] = [];
    if (!(data.buffer instanceof SharedArrayBuffer)) {
      // One copy into a staging buffer that goes to the worker and comes back with the answer (moved both
      // ways, reused: no frame-sized allocation per job).
      const staging = this.staging(data.byteLength);
      const copy = new (data.constructor as new (b: ArrayBuffer, o: number, n: number) => PixelArray)(
        staging,
        0,
        data.length,
      );
      copy.set(data as never);
      data = copy;
      transfer.push(staging);
      this.copiedFrames += job.frames;
    }
    this.inFlightNow++;
    return new Promise<Float64Array>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ ...job, id, data } satisfies RoiWorkerJob, transfer);
    });
  }

  /** A staging buffer of at least `bytes` (one that came back with an answer, or a new one). */
  private staging(bytes: number): ArrayBuffer {
    const i = this.free.findIndex((b) => b.byteLength >= bytes);
    if (i >= 0) return this.free.splice(i, 1)[0]!;
    return new ArrayBuffer(bytes);
  }

  private reply(slot: Slot, m: RoiWorkerReply | { ready: true }): void {
    if ("ready" in m) return;
    if (m.staging) this.free.push(m.staging);
    const p = slot.pending.get(m.id);
    if (!p) return;
    slot.pending.delete(m.id);
    this.busyMs += m.busyMs;
    this.release();
    if ("error" in m) p.reject(new HutchError(ErrorCode.Validation, m.error));
    else p.resolve(m.sums);
  }

  private release(): void {
    this.inFlightNow--;
    const w = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const r of w) r();
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    for (const s of this.slots) {
      for (const p of s.pending.values()) {
        this.inFlightNow--;
        p.reject(err);
      }
      s.pending.clear();
    }
    for (const r of this.spaceWaiters.splice(0)) r();
    this.onFailure(err);
  }

  /** Terminates the workers; jobs in flight fail with HUTCH_ERR_CLOSED. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const s of this.slots) {
      for (const p of s.pending.values())
        p.reject(new HutchError(ErrorCode.Closed, "ROI worker pool closed"));
      s.pending.clear();
    }
    this.inFlightNow = 0;
    for (const r of this.spaceWaiters.splice(0)) r();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
