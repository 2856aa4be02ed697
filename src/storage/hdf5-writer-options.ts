// Options, defaults and counters of the HDF5 writer (units in names).
import type { HutchError } from "../core/index.js";
import { DEFAULT_FILE_PATTERN } from "./file-pattern.js";
import type { LayoutFactory } from "./layout.js";

/** Options of a writer; units in names. */
export interface Hdf5WriterOptions {
  /** Directory of the run files (created if missing). */
  readonly directory: string;
  /** File name pattern, see {@link formatFileName}. */
  readonly pattern?: string;
  /** Start a new part when the current file reaches this size; 0 = never. */
  readonly rotateBytes?: number;
  /** At most this much data (in time) is lost by a kill -9: data is flushed (SWMR) at half this period. */
  readonly flushIntervalMs?: number;
  /** gzip level for every stream, or per stream name (0 = none). */
  readonly gzip?: number | Readonly<Record<string, number>>;
  /** Streams to write (default: all). */
  readonly streams?: readonly string[];
  /** Layouts by registered name or factory (default: generic). */
  readonly layouts?: readonly (string | LayoutFactory)[];
  /** Target chunk size of generic datasets. */
  readonly chunkBytes?: number;
  /** Bytes of rows per batch sent to the worker. */
  readonly batchBytes?: number;
  /** Batches in the worker at once; when reached, `write()` waits (back-pressure). */
  readonly maxInFlight?: number;
  /** Component name recorded with each file. */
  readonly component?: string;
  /** Called once when writing fails (disk full, read-only directory, bad document). */
  readonly onFailure?: (err: HutchError) => void;
}

/** Defaults of {@link Hdf5WriterOptions}. */
export const HDF5_WRITER_DEFAULTS = {
  pattern: DEFAULT_FILE_PATTERN,
  rotateBytes: 2 * 1024 ** 3,
  flushIntervalMs: 1000,
  chunkBytes: 64 * 1024,
  batchBytes: 8 * 1024 ** 2,
  maxInFlight: 4,
} as const;

/** Counters of a writer. */
export interface Hdf5WriterStats {
  documents: number;
  events: number;
  bytes_appended: number;
  batches: number;
  flushes: number;
  files: number;
  /** Times `write()` waited for the worker (the disk is the bottleneck). */
  worker_waits: number;
  /** Time the worker spent writing (ms); its rate of increase is the writer's utilisation. */
  worker_busy_ms: number;
  /** Documents not written because the writer had failed (the run is in ERROR). */
  discarded: number;
  /** Documents of other runs, or of streams not selected. */
  skipped: number;
}
