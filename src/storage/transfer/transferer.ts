// Copies queued files to remote storage one at a time: resumable, sha256-verified remotely, permissions set once.
import { createReadStream } from "node:fs";
import { stat, unlink } from "node:fs/promises";
import { Transform, type TransformCallback } from "node:stream";
import { toHutchError, type Counters, type Logger } from "../../core/index.js";
import { modeString, type RemoteStore } from "./remote-store.js";
import type { TransferEntry, TransferQueue } from "./transfer-queue.js";

/** Options of the transferer. */
export interface TransfererOptions {
  readonly queue: TransferQueue;
  readonly remote: RemoteStore;
  /** Group given to each copied file (unset: left as created). */
  readonly group?: string;
  /** Permission bits of each copied file, e.g. 0o640. */
  readonly mode: number;
  /** Delete the local file once its remote copy is verified. */
  readonly deleteLocal: boolean;
  readonly maxAttempts: number;
  /** First retry delay; doubles per attempt up to `maxBackoffMs`. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** Upload rate limit (bytes/s), to spare a shared link. */
  readonly maxBytesPerSec?: number;
  readonly log: Logger;
  readonly counters: Counters;
  /** Called on every state change and about 4 times a second while copying. */
  readonly onProgress?: (e: TransferEntry, doneBytes: number) => void;
}

/** Counts bytes going through, and waits to keep under a rate when asked. */
class Meter extends Transform {
  done: number;
  private readonly t0 = performance.now();
  private lastReportMs = 0;
  constructor(
    start: number,
    private readonly rate: number | undefined,
    private readonly report: (done: number) => void,
  ) {
    super();
    this.done = start;
    this.sent0 = start;
  }
  private readonly sent0: number;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.done += chunk.length;
    const now = performance.now();
    if (now - this.lastReportMs > 250) {
      this.lastReportMs = now;
      this.report(this.done);
    }
    const wait = this.rate ? ((this.done - this.sent0) / this.rate) * 1000 - (now - this.t0) : 0;
    if (wait > 1) setTimeout(() => cb(null, chunk), wait);
    else cb(null, chunk);
  }
}

/**
 * Works through the queue: for each file, copies it to `<remote>.part` starting from what is already there (a cut
 * copy resumes), has the remote side compute its sha256 and compare it with the local one (a mismatch discards the
 * part and starts over), rename it into place, set group and mode once and read them back (checked here). Failures are retried
 * with exponential backoff up to `maxAttempts`; then the entry is `failed` until `retry`. Local files are deleted
 * only when configured, and only after verification.
 * @example const t = new Transferer({ queue, remote, mode: 0o640, ... }); t.kick();
 */
export class Transferer {
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private current: AbortController | undefined;
  private closed = false;
  /** After a failed attempt nothing is tried before this time (a remote that is down is not hammered file by file). */
  private holdUntilMs = 0;
  private readonly idleWaiters = new Set<() => void>();

  constructor(private readonly o: TransfererOptions) {}

  /** Starts working if idle (call after adding entries or on `retry`). */
  kick(): void {
    if (this.closed || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.work().finally(() => {
      this.running = undefined;
      const due = this.o.queue.nextDueMs();
      if (this.closed) return;
      if (due === undefined) {
        for (const w of this.idleWaiters) w();
        this.idleWaiters.clear();
        return;
      }
      this.timer = setTimeout(
        () => this.kick(),
        Math.max(0, due - Date.now(), this.holdUntilMs - Date.now()),
      );
      this.timer.unref?.();
    });
  }

  /** Resolves once nothing is pending or active (done or failed for good). */
  async settled(): Promise<void> {
    if (!this.running && this.o.queue.nextDueMs() === undefined) return;
    await new Promise<void>((r) => this.idleWaiters.add(r));
  }

  private async work(): Promise<void> {
    if (Date.now() < this.holdUntilMs) return;
    for (let e = this.o.queue.next(Date.now()); e && !this.closed; e = this.o.queue.next(Date.now())) {
      if (!(await this.attempt(e))) return; // back off as a whole: the next file would likely fail the same way
    }
  }

  /** One attempt at one file; false when it failed. */
  private async attempt(e: TransferEntry): Promise<boolean> {
    const { queue, counters, log } = this.o;
    e.state = "active";
    e.attempts++;
    queue.save();
    this.o.onProgress?.(e, 0);
    try {
      await this.copy(e);
      e.state = "done";
      e.doneMs = Date.now();
      delete e.error;
      counters.inc("transfers_done");
      this.holdUntilMs = 0;
      log.info(
        `transfer: ${e.local} -> ${this.o.remote.description}:${e.remote} verified (sha256 ${e.sha256.slice(0, 12)}...)`,
      );
    } catch (err) {
      const msg = toHutchError(err).message;
      e.error = msg;
      counters.inc("transfer_errors");
      if (this.closed) e.state = "pending";
      else if (e.attempts >= this.o.maxAttempts) {
        e.state = "failed";
        counters.inc("transfers_failed");
        log.error(
          `transfer of ${e.local} failed after ${e.attempts} attempt(s): ${msg} (hutch transfer retry)`,
        );
      } else {
        e.state = "pending";
        const delay = Math.min(this.o.maxBackoffMs, this.o.backoffMs * 2 ** (e.attempts - 1));
        e.nextAttemptMs = Date.now() + delay;
        this.holdUntilMs = e.nextAttemptMs;
        log.warn(`transfer of ${e.local}: attempt ${e.attempts} failed: ${msg}; retrying in ${delay} ms`);
      }
    }
    queue.save();
    const c = queue.counts();
    counters.set("transfers_pending", c.pending + c.active);
    counters.set("transfers_failed_now", c.failed);
    this.o.onProgress?.(e, e.state === "done" ? e.bytes : 0);
    return e.state === "done";
  }

  private async copy(e: TransferEntry): Promise<void> {
    const { remote, counters, group, mode } = this.o;
    const local = await stat(e.local);
    if (local.size !== e.bytes) {
      throw new Error(`local file ${e.local} changed: ${local.size} bytes, ${e.bytes} when queued`);
    }
    const part = `${e.remote}.part`;
    const want = { sha256: e.sha256, mode, ...(group !== undefined ? { group } : {}) };
    const found = await remote.probe(e.remote, part);
    if (found.finalBytes === e.bytes) {
      // Copied and renamed before a restart: verify it and (re)set its permissions.
      const r = await remote.seal(e.remote, e.remote, want);
      if (r.ok) return this.finish(e, r.group, r.mode);
    }
    let have = found.partBytes ?? 0;
    if (have > e.bytes) {
      await remote.remove(part);
      have = 0;
    }
    e.resumedFromBytes = have;
    if (have > 0) counters.inc("resumed_bytes", have);
    if (have < e.bytes) {
      this.current = new AbortController();
      const meter = new Meter(have, this.o.maxBytesPerSec, (done) => this.o.onProgress?.(e, done));
      const src = createReadStream(e.local, { start: have, highWaterMark: 1 << 20 });
      try {
        await remote.append(part, src.pipe(meter), this.current.signal);
      } finally {
        counters.inc("bytes_sent", meter.done - have);
        this.current = undefined;
        src.destroy();
      }
    }
    const r = await remote.seal(part, e.remote, want);
    if (!r.ok) {
      counters.inc("verify_failures");
      throw new Error(
        `checksum mismatch: remote sha256 ${r.sha256 || "(none)"}, local ${e.sha256}; the copy starts over`,
      );
    }
    await this.finish(e, r.group, r.mode);
  }

  /** Checks the permissions the remote side read back, then deletes the local file if configured. */
  private async finish(e: TransferEntry, gotGroup: string, gotMode: number): Promise<void> {
    const { group, mode } = this.o;
    if ((group !== undefined && gotGroup !== group) || gotMode !== mode) {
      throw new Error(
        `permissions of ${e.remote} are group ${gotGroup} mode ${modeString(gotMode)}, wanted ${group ?? gotGroup} ${modeString(mode)}`,
      );
    }
    if (this.o.deleteLocal && !e.localDeleted) {
      await unlink(e.local);
      e.localDeleted = true;
    }
  }

  /** Stops: a copy in progress is cut (it resumes at the next start) and nothing new begins. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.current?.abort();
    await this.running;
    for (const w of this.idleWaiters) w();
  }
}
