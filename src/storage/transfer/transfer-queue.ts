// The persistent transfer queue: one JSON file rewritten atomically, so pending copies survive restarts.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ErrorCode, HutchError } from "../../core/index.js";

/** States of a transfer. */
export const TRANSFER_STATES = ["pending", "active", "done", "failed"] as const;
/** A transfer state. */
export type TransferState = (typeof TRANSFER_STATES)[number];

/** One file to copy. */
export interface TransferEntry {
  readonly id: string;
  /** Run the file belongs to (-1 when enqueued by hand). */
  readonly run: number;
  readonly runUid?: string;
  /** Absolute local path. */
  readonly local: string;
  /** Absolute remote path. */
  readonly remote: string;
  readonly bytes: number;
  /** sha256 of the local file when enqueued (hex). */
  readonly sha256: string;
  state: TransferState;
  attempts: number;
  /** Earliest time of the next attempt (unix ms). */
  nextAttemptMs: number;
  error?: string;
  readonly addedMs: number;
  doneMs?: number;
  /** Bytes found already on the remote side when the last attempt began (a resumed copy). */
  resumedFromBytes?: number;
  /** True once the local file was deleted after verification. */
  localDeleted?: boolean;
}

interface QueueFile {
  readonly version: 1;
  readonly entries: TransferEntry[];
}

/**
 * The queue, kept in memory and written to `path` (write to a temporary name, then rename) at every state change.
 * Loading turns `active` entries (a copy cut by a restart) back into `pending`: the copy resumes from what the
 * remote side holds.
 * @example const q = TransferQueue.load(join(dataDir, "transfers/queue.json")); q.add({...}); q.save();
 */
export class TransferQueue {
  private constructor(
    readonly path: string,
    readonly entries: TransferEntry[],
  ) {}

  /** Loads the queue (an empty one when the file does not exist). */
  static load(path: string): TransferQueue {
    let entries: TransferEntry[] = [];
    try {
      const f = JSON.parse(readFileSync(path, "utf8")) as QueueFile;
      if (f.version !== 1 || !Array.isArray(f.entries)) throw new Error("not a version 1 queue");
      entries = f.entries;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new HutchError(
          ErrorCode.Io,
          `transfer queue ${path} is unreadable: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
    }
    for (const e of entries) if (e.state === "active") e.state = "pending";
    return new TransferQueue(path, entries);
  }

  /** Adds an entry unless the same local file is already queued and not failed; returns it (or the existing one). */
  add(e: Omit<TransferEntry, "state" | "attempts" | "nextAttemptMs" | "addedMs">): TransferEntry {
    const same = this.entries.find(
      (x) => x.local === e.local && x.remote === e.remote && x.state !== "failed",
    );
    if (same && same.sha256 === e.sha256) return same;
    const entry: TransferEntry = {
      ...e,
      state: "pending",
      attempts: 0,
      nextAttemptMs: 0,
      addedMs: Date.now(),
    };
    this.entries.push(entry);
    this.save();
    return entry;
  }

  /** The next entry due (pending, its backoff over), oldest first. */
  next(nowMs: number): TransferEntry | undefined {
    return this.entries.find((e) => e.state === "pending" && e.nextAttemptMs <= nowMs);
  }

  /** The earliest time a pending entry becomes due, or undefined when none is pending. */
  nextDueMs(): number | undefined {
    let t: number | undefined;
    for (const e of this.entries) if (e.state === "pending") t = Math.min(t ?? Infinity, e.nextAttemptMs);
    return t;
  }

  /** Failed entries (all, or those of `ids`) become pending again with fresh attempts; returns how many. */
  retry(ids?: readonly string[]): number {
    let n = 0;
    for (const e of this.entries) {
      if (e.state !== "failed" || (ids && !ids.includes(e.id))) continue;
      e.state = "pending";
      e.attempts = 0;
      e.nextAttemptMs = 0;
      delete e.error;
      n++;
    }
    if (n) this.save();
    return n;
  }

  /** Counts per state. */
  counts(): Record<TransferState, number> {
    const c = { pending: 0, active: 0, done: 0, failed: 0 };
    for (const e of this.entries) c[e.state]++;
    return c;
  }

  /** Writes the queue atomically. */
  save(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(
      tmp,
      `${JSON.stringify({ version: 1, entries: this.entries } satisfies QueueFile, null, 1)}\n`,
    );
    renameSync(tmp, this.path);
  }
}
