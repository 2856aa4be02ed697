// Messages between the HDF5 writer (main thread) and its worker: batches of file operations and their replies.
import type { Attrs, DatasetSpec } from "./h5-types.js";

/** One file operation. Appends refer to byte ranges of the batch's transferred arena, or carry strings. */
export type FileOp =
  /** Creates a new file (refuses to overwrite one) and makes it current. */
  | { readonly op: "open"; readonly path: string }
  | { readonly op: "group"; readonly path: string; readonly attrs?: Attrs }
  | { readonly op: "dataset"; readonly path: string; readonly spec: DatasetSpec }
  | { readonly op: "attrs"; readonly path: string; readonly attrs: Attrs }
  | {
      readonly op: "append";
      readonly path: string;
      readonly rows: number;
      /** [byteOffset, byteLength] pairs in the arena, in row order. */
      readonly segments?: readonly (readonly [number, number])[];
      /** Rows of a variable-length string dataset. */
      readonly strings?: readonly string[];
    }
  /** Makes everything written so far durable for readers and crashes (H5Fflush in SWMR mode). */
  | { readonly op: "flush" }
  /** Writes held rows, closes the current file, fsyncs it. */
  | { readonly op: "close" };

/** A batch: operations applied in order; `arena` is transferred, never shared. */
export interface Batch {
  readonly id: number;
  readonly ops: readonly FileOp[];
  readonly arena: ArrayBuffer | SharedArrayBuffer | undefined;
  /** The first batch of a run: clears a failure of the previous run (whose batches are refused until then). */
  readonly newRun?: boolean;
}

/** The OS-level cause of a failure, when one is known. */
export interface OsFailure {
  /** e.g. `ENOSPC`, `EROFS`, `EACCES`. */
  readonly code?: string;
  /** e.g. `No space left on device`. */
  readonly message: string;
}

/** The worker's answer to a batch; the batch's arena comes back with it (transferred) for reuse. */
export type BatchReply = (
  | {
      readonly id: number;
      readonly ok: true;
      /** Size of the current file on disk after the batch (0 when none is open). */
      readonly fileBytes: number;
      /** Bytes of rows appended by this batch. */
      readonly appendedBytes: number;
      /** Time the worker spent on the batch (ms). */
      readonly busyMs: number;
    }
  | {
      readonly id: number;
      readonly ok: false;
      /** The file concerned, if any. */
      readonly path?: string;
      /** What failed, naming the file and the OS error. */
      readonly message: string;
      readonly os?: OsFailure;
      /** HDF5's own error stack, for the log. */
      readonly detail?: string;
    }
) & { readonly arena?: ArrayBuffer | SharedArrayBuffer };

/** The first message of the worker: h5wasm is loaded. */
export interface WorkerReady {
  readonly ready: true;
  /** The HDF5 library writing, e.g. `libhdf5 1.10.8 (native)` or `h5wasm`. */
  readonly backend: string;
}
