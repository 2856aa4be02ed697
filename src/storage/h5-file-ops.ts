// Applies batches of file operations with h5wasm (runs in the writer worker): SWMR appends, flushes, errors named.
import { closeSync, fsyncSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import h5wasm, { dtype_to_metadata, type File as H5File } from "h5wasm/node";
import type { H5Module } from "./h5-attrs.js";
import { elementBytes, h5Dtype, isVlenString, type Attrs, type DatasetSpec } from "./h5-types.js";
import { writeAttrs } from "./h5-attrs.js";
import { clearOpenFlags } from "./superblock.js";
import { osFailureOf, StorageFailure } from "./storage-failure.js";
import type { Batch, FileOp } from "./worker-protocol.js";

const H5S_UNLIMITED = 18446744073709551615n;

interface DatasetState {
  readonly rowShape: bigint[];
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
  private file: H5File | undefined;
  private path: string | undefined;
  private swmr = false;
  private datasets = new Map<string, DatasetState>();
  private appendedBytes = 0;
  private stagingPtr = 0;
  private stagingBytes = 0;

  private constructor(private readonly mod: H5Module) {}

  /** Loads h5wasm and makes every HDF5 error a thrown exception (h5wasm only prints them by default). */
  static async create(): Promise<H5FileOps> {
    const mod = (await h5wasm.ready) as H5Module;
    mod.activate_throwing_error_handler();
    return new H5FileOps(mod);
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
    this.file = undefined;
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
        this.mod.create_group(this.fileId(), op.path, false);
        if (op.attrs) writeAttrs(h5wasm, this.mod, this.fileId(), op.path, op.attrs);
        return;
      case "dataset":
        this.structural();
        return this.createDataset(op.path, op.spec);
      case "attrs":
        this.structural();
        return writeAttrs(h5wasm, this.mod, this.fileId(), op.path, op.attrs as Attrs);
      case "append":
        return this.append(op, arena);
      case "flush":
        if (this.file) this.check(this.mod.flush(this.fileId()), "flush");
        return;
      case "close":
        return this.close();
    }
  }

  private open(path: string): void {
    if (this.file) this.close();
    mkdirSync(dirname(path), { recursive: true });
    // Node creates the file first: it never overwrites a run file and gives the OS error with its code.
    closeSync(openSync(path, "wx"));
    this.path = path;
    this.file = new h5wasm.File(path, "w", { libver: "v110" });
    this.swmr = false;
    this.datasets.clear();
  }

  private close(): void {
    if (!this.file || !this.path) return;
    for (const [path, ds] of this.datasets) if (ds.tailRows > 0) this.writeTail(path, ds);
    this.check(this.file.close(), "close");
    const fd = openSync(this.path, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.file = undefined;
    this.path = undefined;
    this.swmr = false;
    this.datasets.clear();
  }

  /** Leaves SWMR mode (close + reopen read-write) before creating objects or attributes. */
  private structural(): void {
    if (!this.swmr || !this.file || !this.path) return;
    this.check(this.file.close(), "close before a structural change");
    this.file = new h5wasm.File(this.path, "a", { libver: "v110" });
    this.swmr = false;
  }

  /** Enters SWMR mode before data is appended, so readers (h5py swmr=True) and crashes see consistent files. */
  private ensureSwmr(): void {
    if (this.swmr || !this.file) return;
    this.check(this.mod.flush(this.fileId()), "flush");
    this.check(this.file.start_swmr_write(), "start SWMR write");
    this.swmr = true;
  }

  private createDataset(path: string, spec: DatasetSpec): void {
    const md = dtype_to_metadata(h5Dtype(spec.type));
    const rowShape = spec.rowShape.map((n) => BigInt(n));
    const vlen = isVlenString(spec.type);
    const gzip = vlen ? 0 : (spec.gzip ?? 0);
    const meta = {
      ...md,
      shape: [0n, ...rowShape],
      maxshape: [H5S_UNLIMITED, ...rowShape],
      chunks: [BigInt(spec.chunkRows), ...rowShape],
      compression: gzip > 0 ? 1 : 0,
      compression_opts: gzip > 0 ? [gzip] : [],
      track_order: false,
    };
    const fid = this.fileId();
    if (vlen) this.check(this.mod.create_vlen_str_dataset(fid, path, [], meta as never), `create ${path}`);
    else {
      const ptr = this.mod._malloc(8);
      try {
        this.check(this.mod.create_dataset(fid, path, BigInt(ptr), meta as never), `create ${path}`);
      } finally {
        this.mod._free(ptr);
      }
    }
    if (spec.attrs) writeAttrs(h5wasm, this.mod, fid, path, spec.attrs);
    const rowElems = spec.rowShape.reduce((a, b) => a * b, 1);
    this.datasets.set(path, {
      rowShape,
      rowBytes: vlen ? 0 : rowElems * elementBytes(spec.type),
      chunkRows: spec.chunkRows,
      gzip,
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
    if (op.strings) return this.writeStrings(op.path, ds, op.strings);
    const segs = op.segments ?? [];
    const bytes = segs.reduce((n, s) => n + s[1], 0);
    if (bytes !== op.rows * ds.rowBytes) {
      throw new Error(`append to ${op.path}: ${bytes} bytes for ${op.rows} rows of ${ds.rowBytes} bytes`);
    }
    this.appendedBytes += bytes;
    if (ds.gzip === 0) {
      return this.writeRows(op.path, ds, op.rows, (heap, at) => {
        for (const [off, len] of segs) {
          heap.set(arena.subarray(off, off + len), at);
          at += len;
        }
      });
    }
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
    if (whole > 0)
      this.writeRows(op.path, ds, whole, (heap, p) => heap.set(all.subarray(0, whole * ds.rowBytes), p));
    ds.tail = whole < total ? all.slice(whole * ds.rowBytes) : undefined;
    ds.tailRows = total - whole;
  }

  private writeTail(path: string, ds: DatasetState): void {
    const tail = ds.tail!;
    this.writeRows(path, ds, ds.tailRows, (heap, p) => heap.set(tail, p));
    ds.tail = undefined;
    ds.tailRows = 0;
  }

  private writeRows(
    path: string,
    ds: DatasetState,
    n: number,
    fill: (heap: Uint8Array, ptr: number) => void,
  ): void {
    const fid = this.fileId();
    const rows = BigInt(ds.rows);
    this.check(this.mod.resize_dataset(fid, path, [rows + BigInt(n), ...ds.rowShape]), `resize ${path}`);
    const ptr = this.staging(n * ds.rowBytes);
    fill(this.mod.HEAPU8, ptr); // read HEAPU8 after malloc: memory growth replaces it
    const count = [BigInt(n), ...ds.rowShape];
    const offset = [rows, ...ds.rowShape.map(() => 0n)];
    const stride = count.map(() => 1n);
    this.check(this.mod.set_dataset_data(fid, path, count, offset, stride, BigInt(ptr)), `write ${path}`);
    ds.rows += n;
  }

  /** A wasm-heap buffer of at least `bytes`, kept between writes (allocating 8 MiB per batch costs as much as a copy). */
  private staging(bytes: number): number {
    if (bytes > this.stagingBytes) {
      if (this.stagingPtr) this.mod._free(this.stagingPtr);
      this.stagingBytes = 0;
      this.stagingPtr = this.mod._malloc(bytes);
      if (!this.stagingPtr) throw new Error(`out of worker memory for ${bytes} bytes`);
      this.stagingBytes = bytes;
    }
    return this.stagingPtr;
  }

  /** Variable-length strings: an array of pointers to NUL-terminated UTF-8 strings in the wasm heap. */
  private writeStrings(path: string, ds: DatasetState, strings: readonly string[]): void {
    const enc = new TextEncoder();
    const bytes = strings.map((s) => enc.encode(s));
    const total = bytes.reduce((n, b) => n + b.byteLength + 1, 0);
    this.appendedBytes += total;
    const fid = this.fileId();
    const arena = this.mod._malloc(Math.max(1, total));
    const ptrs = this.mod._malloc(4 * strings.length);
    try {
      const heap = this.mod.HEAPU8;
      const view = new DataView(heap.buffer);
      let at = arena;
      bytes.forEach((b, i) => {
        heap.set(b, at);
        heap[at + b.byteLength] = 0;
        view.setUint32(ptrs + 4 * i, at, true);
        at += b.byteLength + 1;
      });
      const n = BigInt(strings.length);
      this.check(this.mod.resize_dataset(fid, path, [BigInt(ds.rows) + n]), `resize ${path}`);
      this.check(
        this.mod.set_dataset_data(fid, path, [n], [BigInt(ds.rows)], [1n], BigInt(ptrs)),
        `write ${path}`,
      );
    } finally {
      this.mod._free(arena);
      this.mod._free(ptrs);
    }
    ds.rows += strings.length;
  }

  private fileId(): bigint {
    if (!this.file) throw new Error("no run file is open");
    return this.file.file_id;
  }

  private check(status: number, what: string): void {
    if (status < 0) throw new Error(`${what} failed (HDF5 status ${status})`);
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
