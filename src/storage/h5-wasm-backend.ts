// The h5wasm backend of the writer worker: HDF5 compiled to WebAssembly, for machines without libhdf5-dev.
import h5wasm, { dtype_to_metadata, type File as H5File } from "h5wasm/node";
import type { H5Backend, RowBytes } from "./h5-backend.js";
import { writeAttrs, type H5Module } from "./h5-attrs.js";
import { h5Dtype, isVlenString, type Attrs, type DatasetSpec } from "./h5-types.js";

const H5S_UNLIMITED = 18446744073709551615n;

/** Appends copy the rows into the wasm heap first; HDF5 zero-fills each new chunk (h5wasm sets no fill time). */
export class H5WasmBackend implements H5Backend {
  readonly name = "h5wasm";
  readonly description = "h5wasm (HDF5 in WebAssembly; no libhdf5-dev at build time)";
  private file: H5File | undefined;
  private rowShapes = new Map<string, bigint[]>();
  private stagingPtr = 0;
  private stagingBytes = 0;

  private constructor(private readonly mod: H5Module) {}

  /** Loads h5wasm and makes every HDF5 error a thrown exception (h5wasm only prints them by default). */
  static async load(): Promise<H5WasmBackend> {
    const mod = (await h5wasm.ready) as H5Module;
    mod.activate_throwing_error_handler();
    return new H5WasmBackend(mod);
  }

  create(path: string): void {
    this.file = new h5wasm.File(path, "w", { libver: "v110" });
    this.rowShapes.clear();
  }

  reopen(path: string): void {
    this.check(this.current().close(), "close before a structural change");
    this.file = new h5wasm.File(path, "a", { libver: "v110" });
  }

  close(): void {
    this.check(this.current().close(), "close");
    this.file = undefined;
  }

  flush(): void {
    this.check(this.mod.flush(this.fileId()), "flush");
  }

  startSwmr(): void {
    this.check(this.current().start_swmr_write(), "start SWMR write");
  }

  abandon(): void {
    this.file = undefined; // never closed: a close would flush metadata that may point at refused data
  }

  group(path: string): void {
    this.mod.create_group(this.fileId(), path, false);
  }

  dataset(path: string, spec: DatasetSpec): void {
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
    this.rowShapes.set(path, rowShape);
  }

  attrs(path: string, attrs: Attrs): void {
    writeAttrs(h5wasm, this.mod, this.fileId(), path, attrs);
  }

  writeRows(path: string, at: number, rows: number, data: RowBytes): void {
    const rowShape = this.rowShapes.get(path) ?? [];
    const fid = this.fileId();
    const start = BigInt(at);
    const n = BigInt(rows);
    this.check(this.mod.resize_dataset(fid, path, [start + n, ...rowShape]), `resize ${path}`);
    const bytes = data.segments.reduce((s, seg) => s + seg[1], 0);
    const ptr = this.staging(bytes);
    const heap = this.mod.HEAPU8; // read HEAPU8 after malloc: memory growth replaces it
    let p = ptr;
    for (const [off, len] of data.segments) {
      heap.set(data.src.subarray(off, off + len), p);
      p += len;
    }
    const count = [n, ...rowShape];
    const offset = [start, ...rowShape.map(() => 0n)];
    const stride = count.map(() => 1n);
    this.check(this.mod.set_dataset_data(fid, path, count, offset, stride, BigInt(ptr)), `write ${path}`);
  }

  /** Variable-length strings: an array of pointers to NUL-terminated UTF-8 strings in the wasm heap. */
  writeStrings(path: string, at: number, strings: readonly string[]): number {
    const enc = new TextEncoder();
    const bytes = strings.map((s) => enc.encode(s));
    const total = bytes.reduce((n, b) => n + b.byteLength + 1, 0);
    const fid = this.fileId();
    const arena = this.mod._malloc(Math.max(1, total));
    const ptrs = this.mod._malloc(4 * strings.length);
    try {
      const heap = this.mod.HEAPU8;
      const view = new DataView(heap.buffer);
      let p = arena;
      bytes.forEach((b, i) => {
        heap.set(b, p);
        heap[p + b.byteLength] = 0;
        view.setUint32(ptrs + 4 * i, p, true);
        p += b.byteLength + 1;
      });
      const n = BigInt(strings.length);
      this.check(this.mod.resize_dataset(fid, path, [BigInt(at) + n]), `resize ${path}`);
      this.check(
        this.mod.set_dataset_data(fid, path, [n], [BigInt(at)], [1n], BigInt(ptrs)),
        `write ${path}`,
      );
    } finally {
      this.mod._free(arena);
      this.mod._free(ptrs);
    }
    return total;
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

  private current(): H5File {
    if (!this.file) throw new Error("no run file is open");
    return this.file;
  }

  private fileId(): bigint {
    return this.current().file_id;
  }

  private check(status: number, what: string): void {
    if (status < 0) throw new Error(`${what} failed (HDF5 status ${status})`);
  }
}
