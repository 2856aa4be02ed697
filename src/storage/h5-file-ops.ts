// Applies batches of file operations in the writer worker (native libhdf5 or h5wasm): SWMR appends, flushes, errors named.
import { closeSync, fsyncSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type { H5Backend } from "./h5-backend.js";
import { H5NativeBackend } from "./h5-native-backend.js";
import { elementBytes, isVlenString, type Attrs, type DatasetSpec } from "./h5-types.js";
import { nativeHdf5 } from "./native-hdf5.js";
import { clearOpenFlags } from "./superblock.js";
import { osFailureOf, StorageFailure } from "./storage-failure.js";
import type { Batch, FileOp } from "./worker-protocol.js";

interface DatasetState {
  /** Bytes per row; 0 for variable-length strings. */
  readonly rowBytes: number;
  readonly chunkRows: number;
  readonly gzip: number;
  rows: number;
  /** Compressed datasets hold the rows of their last, partial chunk here: rewriting a compressed chunk in SWMR mode leaks its old copy. */
  tail: Uint8Array | undefined;
  tailRows: number;
}

/**
 * The worker side of the HDF5 writer: one current file, datasets appended in SWMR mode. Structural changes (new
 * groups, datasets, attributes) are made outside SWMR mode: the file is closed and reopened, as HDF5 requires.
 * Every failure throws a {@link StorageFailure} naming the file and the OS error; the file keeps what was flushed.
 */
export class H5FileOps {
  private path: string | undefined;
  private swmr = false;
  private datasets = new Map<string, DatasetState>();
  private appendedBytes = 0;

  constructor(readonly backend: H5Backend) {}

  /**
   * The native backend (the system's libhdf5) when it is built, else h5wasm (loaded only then: it costs ~0.3 s).
   * `HUTCH_HDF5=h5wasm` (or `HUTCH_NATIVE=0`) picks h5wasm.
   */
  static async create(): Promise<H5FileOps> {
    if (nativeHdf5) return new H5FileOps(new H5NativeBackend(nativeHdf5));
    const { H5WasmBackend } = await import("./h5-wasm-backend.js");
    return new H5FileOps(await H5WasmBackend.load());
  }

  /** Applies a batch; returns the bytes appended and the current file's size. */
  apply(batch: Batch): { appendedBytes: number; fileBytes: number } {
    this.appendedBytes = 0;
    const arena = batch.arena ? new Uint8Array(batch.arena) : new Uint8Array(0);
    for (const op of batch.ops) {
      try {
        this.applyOp(op, arena);
      } catch (err) {
        throw this.failure(op, err);
      }
    }
    return { appendedBytes: this.appendedBytes, fileBytes: this.currentSize() };
  }

  /**
   * Gives up the current file after a failure without flushing again (a close would write metadata that may
   * point at data the disk refused): the file stays as of its last flush, which SWMR keeps consistent, and its
   * open-for-write flags are cleared so any reader opens it. The worker is then replaced by the writer.
   */
  abandon(): void {
    const path = this.path;
    if (path) this.backend.abandon();
    this.path = undefined;
    this.swmr = false;
    this.datasets.clear();
    if (path) {
      try {
        clearOpenFlags(path);
      } catch {
        // Nothing more can be done here; `hutch recover` repeats it.
      }
    }
  }

  private applyOp(op: FileOp, arena: Uint8Array): void {
    switch (op.op) {
      case "open":
        return this.open(op.path);
      case "group":
        this.structural();
        this.backend.group(op.path);
        if (op.attrs) this.backend.attrs(op.path, op.attrs);
        return;
      case "dataset":
        this.structural();
        return this.createDataset(op.path, op.spec);
      case "attrs":
        this.structural();
        return this.backend.attrs(op.path, op.attrs as Attrs);
      case "append":
        return this.append(op, arena);
      case "flush":
        if (this.path) this.backend.flush();
        return;
      case "close":
        return this.close();
    }
  }

  private open(path: string): void {
    if (this.path) this.close();
    mkdirSync(dirname(path), { recursive: true });
    // Node creates the file first: it never overwrites a run file and gives the OS error with its code.
    closeSync(openSync(path, "wx"));
    this.path = path;
    this.swmr = false;
    this.datasets.clear();
    this.backend.create(path);
  }

  private close(): void {
    if (!this.path) return;
    for (const [path, ds] of this.datasets) if (ds.tailRows > 0) this.writeTail(path, ds);
    this.backend.close();
    const fd = openSync(this.path, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.path = undefined;
    this.swmr = false;
    this.datasets.clear();
  }

  /** Leaves SWMR mode (close + reopen read-write) before creating objects or attributes. */
  private structural(): void {
    if (!this.swmr || !this.path) return;
    this.backend.reopen(this.path);
    this.swmr = false;
  }

  /** Enters SWMR mode before data is appended, so readers (h5py swmr=True) and crashes see consistent files. */
  private ensureSwmr(): void {
    if (this.swmr || !this.path) return;
    this.backend.flush();
    this.backend.startSwmr();
    this.swmr = true;
  }

  private createDataset(path: string, spec: DatasetSpec): void {
    const vlen = isVlenString(spec.type);
    this.backend.dataset(path, spec);
    if (spec.attrs) this.backend.attrs(path, spec.attrs);
    const rowElems = spec.rowShape.reduce((a, b) => a * b, 1);
    this.datasets.set(path, {
      rowBytes: vlen ? 0 : rowElems * elementBytes(spec.type),
      chunkRows: spec.chunkRows,
      gzip: vlen ? 0 : (spec.gzip ?? 0),
      rows: 0,
      tail: undefined,
      tailRows: 0,
    });
  }

  private append(op: Extract<FileOp, { op: "append" }>, arena: Uint8Array): void {
    const ds = this.datasets.get(op.path);
    if (!ds) throw new Error(`append to ${op.path}: no such dataset in this file`);
    if (op.rows === 0) return;
    this.ensureSwmr();
    if (op.strings) {
      this.appendedBytes += this.backend.writeStrings(op.path, ds.rows, op.strings);
      ds.rows += op.strings.length;
      return;
    }
    const segs = op.segments ?? [];
    const bytes = segs.reduce((n, s) => n + s[1], 0);
    if (bytes !== op.rows * ds.rowBytes) {
      throw new Error(`append to ${op.path}: ${bytes} bytes for ${op.rows} rows of ${ds.rowBytes} bytes`);
    }
    this.appendedBytes += bytes;
    if (ds.gzip === 0) return this.writeRows(op.path, ds, op.rows, arena, segs);
    // Compressed: write whole chunks only; keep the rest for the next append or the close.
    const total = ds.tailRows + op.rows;
    const whole = total - (total % ds.chunkRows);
    const all = new Uint8Array(total * ds.rowBytes);
    let at = 0;
    if (ds.tail) {
      all.set(ds.tail, 0);
      at = ds.tail.byteLength;
    }
    for (const [off, len] of segs) {
      all.set(arena.subarray(off, off + len), at);
      at += len;
    }
    if (whole > 0) this.writeRows(op.path, ds, whole, all, [[0, whole * ds.rowBytes]]);
    ds.tail = whole < total ? all.slice(whole * ds.rowBytes) : undefined;
    ds.tailRows = total - whole;
  }

  private writeTail(path: string, ds: DatasetState): void {
    this.writeRows(path, ds, ds.tailRows, ds.tail!, [[0, ds.tail!.byteLength]]);
    ds.tail = undefined;
    ds.tailRows = 0;
  }

  private writeRows(
    path: string,
    ds: DatasetState,
    rows: number,
    src: Uint8Array,
    segments: readonly (readonly [number, number])[],
  ): void {
    this.backend.writeRows(path, ds.rows, rows, { src, segments });
    ds.rows += rows;
  }

  private currentSize(): number {
    if (!this.path) return 0;
    try {
      return statSync(this.path).size;
    } catch {
      return 0;
    }
  }

  private failure(op: FileOp, err: unknown): StorageFailure {
    const path = op.op === "open" ? op.path : this.path;
    return new StorageFailure(path, op.op, err, osFailureOf(err));
  }
}
