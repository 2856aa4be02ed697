// What the writer worker's file state machine (h5-file-ops.ts) asks of an HDF5 library: native libhdf5 or h5wasm.
import type { Attrs, DatasetSpec } from "./h5-types.js";

/** Rows to write: byte ranges of `src`, in row order. */
export interface RowBytes {
  readonly src: Uint8Array;
  readonly segments: readonly (readonly [number, number])[];
}

/**
 * One HDF5 library behind the worker: one current file; calls come in the order HDF5 needs (structural changes
 * outside SWMR mode; appends in it). Failures throw; the state machine names the file and the OS error.
 */
export interface H5Backend {
  /** `native` (the system's libhdf5) or `h5wasm`. */
  readonly name: string;
  /** What an operator is told, e.g. `libhdf5 1.10.8 (native)`. */
  readonly description: string;
  /** Creates the file at `path` (Node has made it, empty) in the HDF5 1.10 format and makes it current. */
  create(path: string): void;
  /** Closes and reopens the current file read-write (leaves SWMR mode). */
  reopen(path: string): void;
  close(): void;
  flush(): void;
  startSwmr(): void;
  /** Forgets the current file after a failure without writing to it again. */
  abandon(): void;
  group(path: string): void;
  dataset(path: string, spec: DatasetSpec): void;
  attrs(path: string, attrs: Attrs): void;
  /** Grows the dataset to `at + rows` rows and writes them. */
  writeRows(path: string, at: number, rows: number, data: RowBytes): void;
  /** Grows a variable-length string dataset and writes `strings` from row `at`; returns the UTF-8 bytes. */
  writeStrings(path: string, at: number, strings: readonly string[]): number;
}
