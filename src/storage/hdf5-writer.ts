// Writes runs' documents to HDF5 files through layout plug-ins and a worker thread, with back-pressure and rotation.
import { join } from "node:path";
import {
  ErrorCode,
  HutchError,
  nowSec,
  toHutchError,
  type Descriptor,
  type Document,
  type RunFile,
  type RunStart,
  type RunStop,
} from "../core/index.js";
import { DEFAULT_FILE_PATTERN, formatFileName, validateFilePattern } from "./file-pattern.js";
import type { LayoutOptions, RunFileLayout } from "./layout.js";
import { layoutFactory } from "./layout-registry.js";
import { describeRunFiles } from "./run-files.js";
import { StorageFailure } from "./storage-failure.js";
import { clearOpenFlags } from "./superblock.js";
import { ArenaPool, BatchBuilder } from "./write-batch.js";
import type { Batch, BatchReply } from "./worker-protocol.js";
import { WriterWorker } from "./writer-worker.js";
import { HDF5_WRITER_DEFAULTS, type Hdf5WriterOptions, type Hdf5WriterStats } from "./hdf5-writer-options.js";

/** What the writer remembers of a batch in the worker. */
interface InFlight {
  readonly closes?: RunState;
  readonly part: string;
  readonly partBytes: number;
}

interface RunState {
  readonly start: RunStart;
  readonly layouts: RunFileLayout[];
  readonly descriptors: Map<string, Descriptor>;
  readonly excluded: Set<string>;
  readonly counts: Map<string, Record<string, number>>;
  readonly parts: string[];
  /** Bytes appended to the current part, and how many of them the last acknowledged batch covered. */
  partBytes: number;
  ackedPartBytes: number;
  closing: boolean;
  readonly done: Promise<RunFile[]>;
  resolve(files: RunFile[]): void;
}

/**
 * Writes the documents of runs to HDF5 files: one file per run (rotating into parts), laid out by plug-ins,
 * written by HDF5 (native libhdf5, or h5wasm) in a worker thread in SWMR mode so h5py can read while it grows.
 * `write()` resolves once the document is accepted; it waits when the worker is behind (back-pressure, never loss).
 * @example
 * const w = await Hdf5Writer.open({ directory: "var/data" });
 * for await (const { doc } of sub) await w.write(doc);
 * const files = await w.runFinished(runUid);
 * await w.close();
 */
export class Hdf5Writer {
  readonly stats: Hdf5WriterStats = {
    documents: 0,
    events: 0,
    bytes_appended: 0,
    batches: 0,
    flushes: 0,
    files: 0,
    worker_waits: 0,
    worker_busy_ms: 0,
    discarded: 0,
    skipped: 0,
  };
  private readonly pool: ArenaPool;
  private readonly builder: BatchBuilder;
  private readonly worker: WriterWorker<InFlight>;
  private run: RunState | undefined;
  private readonly finished = new Map<string, Promise<RunFile[]>>();
  private readonly expected = new Map<string, ((done: Promise<RunFile[]>) => void)[]>();
  private failure: HutchError | undefined;
  private unflushed = false;
  private fileBytes = 0;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private readonly o: Required<Omit<Hdf5WriterOptions, "streams" | "component" | "onFailure" | "gzip">> &
    Hdf5WriterOptions;

  private constructor(opts: Hdf5WriterOptions) {
    this.o = { ...HDF5_WRITER_DEFAULTS, layouts: ["generic"], ...opts };
    this.pool = new ArenaPool(this.o.batchBytes);
    this.builder = new BatchBuilder(this.pool);
    this.worker = new WriterWorker<InFlight>(this.pool, {
      reply: (r, meta) => this.onReply(r, meta),
      died: (err) =>
        this.fail(new StorageFailure(this.builder.file || undefined, "write", err), "worker-died"),
    });
    this.timer = setInterval(() => this.tick(), Math.max(10, this.o.flushIntervalMs / 2));
    this.timer.unref();
  }

  /** Starts the worker (loads h5wasm) and checks the options. */
  static async open(opts: Hdf5WriterOptions): Promise<Hdf5Writer> {
    validateFilePattern(opts.pattern ?? DEFAULT_FILE_PATTERN);
    for (const l of opts.layouts ?? []) if (typeof l === "string") layoutFactory(l);
    const w = new Hdf5Writer(opts);
    try {
      await w.worker.ready;
    } catch (err) {
      await w.close();
      throw err;
    }
    return w;
  }

  /** The failure that stopped writing, if any (cleared by `reset()`). */
  get failed(): HutchError | undefined {
    return this.failure;
  }

  /** The HDF5 library writing the files, e.g. `libhdf5 1.10.8 (native)` or `h5wasm (...)`. */
  get backend(): string {
    return this.worker.backendDescription;
  }

  /** Batches in the worker now. */
  get pending(): number {
    return this.worker.pending;
  }

  /**
   * Takes one document. Run documents of the current run are laid out and batched; others are skipped.
   * Resolves when accepted; waits while `maxInFlight` batches are in the worker.
   */
  async write(doc: Document): Promise<void> {
    this.stats.documents++;
    if (this.failure || this.closed) {
      if (isRunData(doc)) this.stats.discarded++;
      return;
    }
    const data = doc.kind !== "log" && doc.kind !== "metric" && doc.kind !== "state";
    if (data) this.builder.mark();
    try {
      if (data) this.handle(doc);
    } catch (err) {
      this.builder.rollback();
      this.fail(toHutchError(err, ErrorCode.Validation), "main");
      return;
    }
    this.dispatch();
    while (this.worker.pending >= this.o.maxInFlight && !this.failure) {
      this.stats.worker_waits++;
      await this.worker.nextReply();
    }
  }

  /**
   * The files of run `uid`, once its run-stop has been written and its files closed (or once writing failed).
   * The run-start may still be on its way (the writer is behind). Rejects with HUTCH_ERR_TIMEOUT after `timeoutMs`.
   */
  async runFinished(uid: string, timeoutMs = 30_000): Promise<RunFile[]> {
    const known = this.finished.get(uid);
    if (!known && this.failure) return []; // a failed writer does not take new runs until reset()
    const p =
      known ??
      new Promise<RunFile[]>((resolve) => {
        const list = this.expected.get(uid) ?? [];
        list.push((done) => void done.then(resolve));
        this.expected.set(uid, list);
      });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new HutchError(ErrorCode.Timeout, `run files not closed within ${timeoutMs} ms (no run-stop?)`),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
      if (!known) this.expected.delete(uid);
    }
  }

  /**
   * Ends run `uid` (default: the current run) without its run-stop (stop timeout, shutdown): its last part gets
   * exit_status "fail" and `reason`. Resolves with its files; undefined when that run is not being written.
   */
  endRun(reason: string, uid?: string): Promise<RunFile[]> | undefined {
    const run = this.run;
    if (!run || (uid !== undefined && run.start.uid !== uid)) return uid ? this.finished.get(uid) : undefined;
    if (!run.closing && !this.failure) {
      const counts: Record<string, number> = {};
      for (const c of run.counts.values())
        for (const [k, v] of Object.entries(c)) counts[k] = (counts[k] ?? 0) + v;
      this.stopRun(run, {
        kind: "run-stop",
        uid: `${run.start.uid}-writer-stop`,
        runUid: run.start.uid,
        run: run.start.run,
        time: nowSec(),
        exitStatus: "fail",
        reason,
        counts,
      });
      this.dispatch();
    }
    return run.done;
  }

  /** Waits until every batch recorded so far is written and flushed. */
  async drain(): Promise<void> {
    if (!this.failure && (this.builder.dirty || this.unflushed)) {
      this.builder.flush();
      this.dispatch();
    }
    await this.worker.idle();
  }

  /** Clears a failure so that the next run-start opens a new file. */
  reset(): void {
    this.failure = undefined;
    this.run = undefined;
    this.builder.discard();
  }

  /** Closes the current run's file (if any, as failed), then stops the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    const pending = this.endRun("writer closed during the run");
    if (pending) await Promise.race([pending, new Promise((r) => setTimeout(r, 10_000))]);
    await this.drain();
    this.closed = true;
    clearInterval(this.timer);
    await this.worker.terminate();
  }

  private handle(doc: Document): void {
    switch (doc.kind) {
      case "run-start":
        if (this.run && !this.run.closing)
          this.endRun(`run ${doc.run} started before the run-stop of this run`);
        return this.beginRun(doc);
      case "descriptor": {
        const run = this.current(doc.runUid);
        if (!run) return;
        if (this.o.streams && !this.o.streams.includes(doc.stream)) {
          run.excluded.add(doc.uid);
          return;
        }
        run.descriptors.set(doc.uid, doc);
        for (const l of run.layouts) l.onDescriptor?.(this.builder, doc);
        return;
      }
      case "event":
      case "event-page": {
        const run = this.current(doc.runUid);
        if (!run) return;
        const d = run.descriptors.get(doc.descriptor);
        if (!d) {
          if (run.excluded.has(doc.descriptor)) return void this.stats.skipped++;
          throw new HutchError(
            ErrorCode.Validation,
            `${doc.kind} of stream '${doc.stream}' refers to descriptor ${doc.descriptor}, which this writer never received`,
          );
        }
        const estimate = this.fileBytes + run.partBytes - run.ackedPartBytes;
        if (this.o.rotateBytes > 0 && estimate >= this.o.rotateBytes) this.rotate(run);
        const before = this.builder.reservedBytes;
        for (const l of run.layouts) {
          if (doc.kind === "event") l.onEvent?.(this.builder, doc, d);
          else l.onPage?.(this.builder, doc, d);
        }
        run.partBytes += this.builder.reservedBytes - before;
        const n = doc.kind === "event" ? 1 : doc.n;
        const c = run.counts.get(this.builder.file)!;
        c[doc.stream] = (c[doc.stream] ?? 0) + n;
        this.stats.events += n;
        return;
      }
      case "run-stop": {
        const run = this.current(doc.runUid);
        if (run) this.stopRun(run, doc);
        return;
      }
      default:
        return;
    }
  }

  private stopRun(run: RunState, stop: RunStop): void {
    for (const l of run.layouts) l.onRunStop?.(this.builder, stop);
    this.builder.closeFile();
    run.closing = true;
  }

  private current(runUid: string): RunState | undefined {
    if (this.run?.start.uid === runUid && !this.run.closing) return this.run;
    this.stats.skipped++;
    return undefined;
  }

  private beginRun(start: RunStart): void {
    const lo: LayoutOptions = { gzipFor: (s) => this.gzipFor(s), chunkBytes: this.o.chunkBytes };
    let resolve!: (f: RunFile[]) => void;
    const done = new Promise<RunFile[]>((r) => (resolve = r));
    const layouts = this.o.layouts.map((l) => (typeof l === "string" ? layoutFactory(l) : l)(lo));
    const run: RunState = {
      start,
      layouts,
      descriptors: new Map(),
      excluded: new Set(),
      counts: new Map(),
      parts: [],
      partBytes: 0,
      ackedPartBytes: 0,
      closing: false,
      done,
      resolve,
    };
    this.run = run;
    this.finished.set(start.uid, done);
    for (const w of this.expected.get(start.uid) ?? []) w(done);
    while (this.finished.size > 16) this.finished.delete(this.finished.keys().next().value!);
    this.openPart(run, true);
  }

  private openPart(run: RunState, newRun: boolean): void {
    const part = newRun ? 1 : this.builder.part + 1;
    const name = formatFileName(this.o.pattern, {
      instrument: run.start.instrument,
      run: run.start.run,
      time: run.start.time,
      part,
    });
    const path = join(this.o.directory, name);
    this.builder.openFile(path, newRun);
    run.counts.set(path, {});
    run.parts.push(path);
    run.partBytes = 0;
    run.ackedPartBytes = 0;
    this.fileBytes = 0;
    this.stats.files++;
    for (const l of run.layouts) l.onRunStart?.(this.builder, run.start);
    for (const d of run.descriptors.values()) for (const l of run.layouts) l.onDescriptor?.(this.builder, d);
  }

  private rotate(run: RunState): void {
    this.builder.closeFile();
    this.openPart(run, false);
  }

  private gzipFor(stream: string): number {
    const g = this.o.gzip;
    return typeof g === "number" ? g : (g?.[stream] ?? 0);
  }

  private tick(): void {
    if (this.failure || this.closed) return;
    if (this.builder.dirty || this.unflushed) {
      this.builder.flush();
      this.dispatch();
    }
  }

  private dispatch(): void {
    for (const b of this.builder.take()) this.post(b);
  }

  private post(b: Batch): void {
    const last = b.ops.at(-1);
    const closes = last?.op === "close" && this.run?.closing ? this.run : undefined;
    const partBytes = this.run?.partBytes ?? 0;
    this.stats.batches++;
    if (last?.op === "flush") {
      this.stats.flushes++;
      this.unflushed = false;
    } else if (b.ops.some((o) => o.op === "append")) this.unflushed = true;
    this.worker.post(
      b,
      closes ? { closes, part: this.builder.file, partBytes } : { part: this.builder.file, partBytes },
    );
  }

  private onReply(r: BatchReply, entry: InFlight | undefined): void {
    if (!r.ok) {
      this.fail(
        new StorageFailure(r.path, "write", new Error(r.detail ?? r.message), r.os, r.message),
        "worker",
      );
    } else if (!this.failure) {
      if (this.run && entry && !entry.closes && entry.part === this.builder.file) {
        this.fileBytes = r.fileBytes;
        this.run.ackedPartBytes = entry.partBytes;
      }
      this.stats.bytes_appended += r.appendedBytes;
      this.stats.worker_busy_ms += r.busyMs;
      if (entry?.closes) void this.finishRun(entry.closes);
    }
  }

  private async finishRun(run: RunState): Promise<void> {
    for (const l of run.layouts) {
      try {
        await l.onFilesClosed?.(run.parts);
      } catch (err) {
        this.o.onFailure?.(
          new HutchError(
            ErrorCode.Io,
            `layout ${l.name}: finishing ${run.parts.join(", ")} failed: ${toHutchError(err).message}`,
            { cause: err },
          ),
        );
      }
    }
    const files = await describeRunFiles(run.parts, run.counts, this.o.component);
    if (this.run === run) this.run = undefined;
    run.resolve(files);
  }

  /**
   * Stops writing and reports once. `main`: a document could not be laid out; the worker closes the file cleanly
   * with what it has. `worker`: the worker failed (disk full...) and left the file as of its last flush, flags
   * cleared; it is replaced. `worker-died`: the worker crashed; its file's open flags are cleared here.
   */
  private fail(err: HutchError, source: "main" | "worker" | "worker-died"): void {
    if (this.failure) return;
    this.failure = err;
    if (source !== "main") this.builder.discard();
    const run = this.run;
    const file = this.builder.file;
    if (source !== "main") this.worker.replace();
    if (source === "worker-died" && file) {
      try {
        clearOpenFlags(file);
      } catch {
        // `hutch recover` can do it later.
      }
    }
    if (run && !run.closing) {
      run.closing = true;
      if (source === "main") {
        // The worker is fine: it writes what was valid before this document and closes the file cleanly.
        this.builder.closeFile();
        this.dispatch();
        this.worker.whenIdle(() => void this.finishRun(run));
      } else void this.finishRun(run);
    }
    this.o.onFailure?.(err);
  }
}

function isRunData(doc: Document): boolean {
  return doc.kind === "event" || doc.kind === "event-page" || doc.kind === "descriptor";
}
