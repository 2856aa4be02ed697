// The layout plug-in API: how run documents become groups, datasets and attributes of a run file.
import type { Descriptor, Event, EventPage, RunStart, RunStop, TypedArray } from "../core/index.js";
import type { Attrs, DatasetSpec } from "./h5-types.js";

/** Columns of a compound dataset by member name (numeric typed arrays, or strings for fixed-string members). */
export type CompoundColumns = Readonly<Record<string, TypedArray | readonly string[]>>;

/** Rows to append: a typed array (row-major, `rows x rowShape` elements), strings, compound columns or packed bytes. */
export type AppendData = TypedArray | readonly string[] | CompoundColumns;

/**
 * What a layout writes with. Calls are recorded on the main thread and applied in order by the writer worker;
 * appended data is copied once, so callers may reuse their arrays. Paths are absolute (`/stream/data/x`);
 * create parents before children. Errors (unknown dataset, wrong length) throw HUTCH_ERR_VALIDATION.
 */
export interface LayoutWriter {
  /** The file being written (the current part). */
  readonly file: string;
  /** Part number of that file, from 1 (a new part starts when the file passes `rotateBytes`). */
  readonly part: number;
  /** Every part of the run so far, in order (the last is `file`). */
  readonly parts: readonly string[];
  /** Creates a group. */
  group(path: string, attrs?: Attrs): void;
  /** Creates an extendable, chunked dataset of shape [0, ...rowShape]. */
  dataset(path: string, spec: DatasetSpec): void;
  /** Sets (or replaces) attributes of the root (`/`), a group or a dataset. */
  attrs(path: string, attrs: Attrs): void;
  /** Appends `rows` rows to a dataset. */
  append(path: string, rows: number, data: AppendData): void;
  /** True when the group or dataset exists in this file. */
  has(path: string): boolean;
}

/**
 * A file layout plug-in. Hooks are called on the main thread in document order; they must only use `w` (each
 * file part gets `onRunStart` and every known `onDescriptor` again, so parts are self-contained). The generic
 * layout is one; instruments add theirs (CHEC-S `/SlowSignal/readout`, LArPix+HDF5 `_header` + `packets`).
 * @example
 * const counter: RunFileLayout = {
 *   name: "counter",
 *   onRunStart: (w) => w.dataset("/n", { type: "uint32", rowShape: [], chunkRows: 1024 }),
 *   onPage: (w, p) => w.append("/n", 1, Uint32Array.of(p.n)),
 * };
 */
export interface RunFileLayout {
  readonly name: string;
  /** A file of the run was opened (each part): write run-level groups and attributes. */
  onRunStart?(w: LayoutWriter, start: RunStart): void;
  /** A stream was declared (replayed into each new part). */
  onDescriptor?(w: LayoutWriter, descriptor: Descriptor): void;
  /** A page of events of a declared stream. */
  onPage?(w: LayoutWriter, page: EventPage, descriptor: Descriptor): void;
  /** One event of a declared stream. */
  onEvent?(w: LayoutWriter, event: Event, descriptor: Descriptor): void;
  /** The run ended (called on the last part only): final attributes. */
  onRunStop?(w: LayoutWriter, stop: RunStop): void;
  /**
   * Every part of the run is written and closed (main thread, before sizes and checksums are taken): a place for
   * fix-ups HDF5 cannot do while the file is open (see the chec-ssdaq layout).
   */
  onFilesClosed?(paths: readonly string[]): void | Promise<void>;
}

/** What the writer tells layouts about its configuration. */
export interface LayoutOptions {
  /** gzip level of a stream (0 = none). */
  gzipFor(stream: string): number;
  /** Target bytes per chunk for datasets the layout sizes itself. */
  readonly chunkBytes: number;
}

/** Makes a layout for one run. */
export type LayoutFactory = (opts: LayoutOptions) => RunFileLayout;
