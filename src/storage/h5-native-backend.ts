// The native backend of the writer worker: the system's libhdf5 through native-hdf5/, rows written from the arena.
import type { H5Backend, RowBytes } from "./h5-backend.js";
import { attrArgs } from "./h5-attrs.js";
import { H5_DTYPE, h5Dtype, isVlenString, type Attrs, type DatasetSpec } from "./h5-types.js";
import type { NativeHdf5 } from "./native-hdf5.js";

/** Typed array constructors by h5wasm dtype spelling, for attribute values given as plain numbers. */
const ARRAYS: Readonly<Record<string, (v: (number | bigint)[]) => ArrayBufferView>> = {
  [H5_DTYPE.uint8]: (v) => Uint8Array.from(v.map(Number)),
  [H5_DTYPE.int8]: (v) => Int8Array.from(v.map(Number)),
  [H5_DTYPE.uint16]: (v) => Uint16Array.from(v.map(Number)),
  [H5_DTYPE.int16]: (v) => Int16Array.from(v.map(Number)),
  [H5_DTYPE.uint32]: (v) => Uint32Array.from(v.map(Number)),
  [H5_DTYPE.int32]: (v) => Int32Array.from(v.map(Number)),
  [H5_DTYPE.uint64]: (v) => BigUint64Array.from(v.map((x) => BigInt(x))),
  [H5_DTYPE.int64]: (v) => BigInt64Array.from(v.map((x) => BigInt(x))),
  [H5_DTYPE.float32]: (v) => Float32Array.from(v.map(Number)),
  [H5_DTYPE.float64]: (v) => Float64Array.from(v.map(Number)),
};

/**
 * Datasets stay open while their file is (an append is then one extent change and one write); with fill time
 * NEVER, chunks larger than HDF5's chunk cache go from the arena to the file without a copy.
 */
export class H5NativeBackend implements H5Backend {
  readonly name = "native";
  private fid: bigint | undefined;
  private readonly open = new Map<string, bigint>();

  constructor(private readonly h5: NativeHdf5) {}

  get description(): string {
    return `libhdf5 ${this.h5.version()} (native)`;
  }

  create(path: string): void {
    this.fid = this.h5.fileCreate(path);
  }

  reopen(path: string): void {
    this.close();
    this.fid = this.h5.fileOpen(path);
  }

  close(): void {
    const fid = this.file();
    this.flushRows();
    for (const did of this.open.values()) this.h5.datasetClose(did);
    this.open.clear();
    this.fid = undefined;
    this.h5.fileClose(fid);
  }

  flush(): void {
    this.flushRows();
    this.h5.fileFlush(this.file());
  }

  /**
   * Writes every dataset's cached rows before the file's metadata. In SWMR mode HDF5 keeps rows written with
   * H5Dwrite (partial chunks) in memory until a flush; H5Fflush goes on to the metadata when they fail (disk
   * full), which would then count rows that hold no data. H5Dflush stops at the failure, and the file is
   * abandoned as of its last flush.
   */
  private flushRows(): void {
    for (const did of this.open.values()) this.h5.datasetFlush(did);
  }

  startSwmr(): void {
    this.h5.startSwmr(this.file());
  }

  abandon(): void {
    const fid = this.fid;
    this.open.clear();
    this.fid = undefined;
    if (fid !== undefined) this.h5.fileAbandon(fid);
  }

  group(path: string): void {
    this.h5.groupCreate(this.file(), path);
  }

  dataset(path: string, spec: DatasetSpec): void {
    const gzip = isVlenString(spec.type) ? 0 : (spec.gzip ?? 0);
    const did = this.h5.datasetCreate(
      this.file(),
      path,
      h5Dtype(spec.type),
      spec.rowShape,
      spec.chunkRows,
      gzip,
    );
    this.open.set(path, did);
  }

  attrs(path: string, attrs: Attrs): void {
    const fid = this.file();
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined) continue;
      const { data, shape, dtype } = attrArgs(value);
      const bytes =
        typeof data === "string" || ArrayBuffer.isView(data)
          ? data
          : Array.isArray(data) && dtype === "S"
            ? (data as string[])
            : ARRAYS[dtype]!(Array.isArray(data) ? (data as (number | bigint)[]) : [data as number | bigint]);
      this.h5.attrWrite(fid, path, name, dtype, shape, bytes);
    }
  }

  writeRows(path: string, at: number, rows: number, data: RowBytes): void {
    const segs = new Float64Array(2 * data.segments.length);
    data.segments.forEach(([off, len], i) => {
      segs[2 * i] = off;
      segs[2 * i + 1] = len;
    });
    this.h5.datasetAppend(this.openDataset(path), at, rows, data.src, segs);
  }

  writeStrings(path: string, at: number, strings: readonly string[]): number {
    this.h5.datasetAppendStrings(this.openDataset(path), at, strings);
    return strings.reduce((n, s) => n + Buffer.byteLength(s) + 1, 0);
  }

  /** The open id of a dataset, opened again after the file was (a structural change reopens it). */
  private openDataset(path: string): bigint {
    let did = this.open.get(path);
    if (did === undefined) {
      did = this.h5.datasetOpen(this.file(), path);
      this.open.set(path, did);
    }
    return did;
  }

  private file(): bigint {
    if (this.fid === undefined) throw new Error("no run file is open");
    return this.fid;
  }
}
