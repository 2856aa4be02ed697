// The optional native HDF5 addon (native-hdf5/, the system's libhdf5), built by scripts/build.mjs when libhdf5-dev is there.
import { loadNativeAddon } from "../core/index.js";

/**
 * What native-hdf5/build/Release/hutch_hdf5.node exports. Ids are HDF5 `hid_t`s (bigint). Every call throws an
 * Error (code HUTCH_ERR_IO) whose message is `<what> failed` and HDF5's error stack, or a RangeError
 * (HUTCH_ERR_VALIDATION) for arguments of the wrong kind. Dtypes are spelled as h5wasm spells them (h5-types.ts).
 */
export interface NativeHdf5 {
  /** The libhdf5 version the addon runs with, e.g. `1.10.8`. */
  version(): string;
  /** Creates (truncates) a file in the HDF5 1.10 format; returns its id. */
  fileCreate(path: string): bigint;
  /** Opens a file read-write in the HDF5 1.10 format. */
  fileOpen(path: string): bigint;
  fileClose(fid: bigint): void;
  /** H5Fflush, global scope. */
  fileFlush(fid: bigint): void;
  /** Closes a file after a failure without writing to it again (it stays as of its last flush). */
  fileAbandon(fid: bigint): void;
  startSwmr(fid: bigint): void;
  groupCreate(fid: bigint, path: string): void;
  /** An extendable dataset `[0, ...rowShape]`, chunks of `chunkRows` rows, gzip 0..9; returns its (open) id. */
  datasetCreate(
    fid: bigint,
    path: string,
    dtype: string | [string, string][],
    rowShape: readonly number[],
    chunkRows: number,
    gzip: number,
  ): bigint;
  datasetOpen(fid: bigint, path: string): bigint;
  datasetClose(did: bigint): void;
  /** H5Dflush: the dataset's cached rows, then its metadata; nothing more once the rows fail. */
  datasetFlush(did: bigint): void;
  /** Grows the dataset to `at + rows` rows and writes them from `segments` (offset/length pairs) of `arena`. */
  datasetAppend(did: bigint, at: number, rows: number, arena: ArrayBufferView, segments: Float64Array): void;
  /** Grows a variable-length string dataset and writes `strings` from row `at`. */
  datasetAppendStrings(did: bigint, at: number, strings: readonly string[]): void;
  /** Creates or replaces an attribute: "S" takes a string or strings, other dtypes a typed array of that type. */
  attrWrite(
    fid: bigint,
    objectPath: string,
    name: string,
    dtype: string,
    shape: readonly number[] | null,
    data: string | readonly string[] | ArrayBufferView,
  ): void;
}

/**
 * The native HDF5 writer, or undefined when it is not built (no libhdf5-dev), `HUTCH_NATIVE=0` or
 * `HUTCH_HDF5=h5wasm`: run files are then written with h5wasm. From src/storage/ and dist/storage/ alike.
 */
export const nativeHdf5: NativeHdf5 | undefined =
  process.env.HUTCH_HDF5 === "h5wasm"
    ? undefined
    : loadNativeAddon<NativeHdf5>(
        new URL("../../native-hdf5/build/Release/hutch_hdf5.node", import.meta.url),
      );
