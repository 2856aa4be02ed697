// Reads a generic-layout run file back as documents (run-start, descriptors, event pages, run-stop) for replay.
import type { Dataset, File as H5File } from "h5wasm/node";
import {
  DescriptorSchema,
  ErrorCode,
  HutchError,
  type Descriptor,
  type Document,
  type DType,
  type NdArray,
  type RunStart,
  type RunStop,
  type TypedArray,
} from "../core/index.js";
import { fieldPath } from "./generic-layout.js";

/** Options of {@link readRunFile}. */
export interface ReadRunFileOptions {
  /** Rows per page at most (pages also end where seq jumps). */
  readonly pageRows?: number;
  /** Bytes of field data per page at most. */
  readonly pageBytes?: number;
}

interface Cursor {
  readonly d: Descriptor;
  readonly rows: number;
  at: number;
  next: Document | undefined;
  readonly fields: [string, Dataset, boolean][];
  readonly seq: Dataset;
  readonly time: Dataset;
  readonly rowBytes: number;
}

/** Opens a run file for reading: a plain open, or as a SWMR reader when it is still open for writing. */
export async function openRunFile(path: string): Promise<H5File> {
  const h5wasm = await loadH5();
  for (const mode of ["r", "Sr"] as const) {
    const f = new h5wasm.File(path, mode);
    if (f.file_id >= 0n) return f;
  }
  throw new HutchError(
    ErrorCode.Io,
    `cannot open run file ${path} (not HDF5, or unreadable; try \`hutch recover\`)`,
  );
}

/** h5wasm, loaded on first use (it costs ~0.3 s and its own memory). */
async function loadH5() {
  const h5wasm = (await import("h5wasm/node")).default;
  await h5wasm.ready;
  return h5wasm;
}

const attrOf = (f: H5File, name: string): unknown => {
  const a = f.attrs[name];
  return a ? a.value : undefined;
};
const num = (v: unknown): number => (typeof v === "bigint" ? Number(v) : (v as number));

/**
 * Reads the documents of a run written with the generic layout, from one file or all parts in order:
 * run-start, each descriptor, event pages merged across streams by time (strings come as events), run-stop
 * (when the file was closed by a run-stop). Reads in slices on the calling thread; yields between pages.
 * @example for await (const doc of readRunFile("demo_run00042_20260121_p1.h5")) await bus.publish(doc);
 */
export async function* readRunFile(
  paths: string | readonly string[],
  opts: ReadRunFileOptions = {},
): AsyncGenerator<Document> {
  const files = typeof paths === "string" ? [paths] : paths;
  const seen = new Set<string>();
  let stop: RunStop | undefined;
  for (let i = 0; i < files.length; i++) {
    const f = await openRunFile(files[i]!);
    try {
      if (attrOf(f, "hutch_layout") !== "generic") {
        throw new HutchError(ErrorCode.Validation, `${files[i]} is not a generic-layout Hutch run file`);
      }
      if (i === 0) yield runStartOf(f);
      const cursors: Cursor[] = [];
      for (const name of f.keys()) {
        const g = f.get(name);
        if (!g || !("keys" in g) || !g.attrs.descriptor) continue;
        const d = DescriptorSchema.parse(JSON.parse(String(g.attrs.descriptor.value))) as Descriptor;
        if (!seen.has(d.uid)) {
          seen.add(d.uid);
          yield d;
        }
        cursors.push(cursorOf(f, d));
      }
      for (const c of cursors) c.next = readPage(c, opts);
      for (;;) {
        let best: Cursor | undefined;
        for (const c of cursors) if (c.next && (!best || firstTime(c.next) < firstTime(best.next!))) best = c;
        if (!best) break;
        yield best.next!;
        best.next = readPage(best, opts);
        await new Promise<void>((r) => setImmediate(r));
      }
      if (i === files.length - 1 && attrOf(f, "exit_status") !== undefined) stop = runStopOf(f);
    } finally {
      f.close();
    }
  }
  if (stop) yield stop;
}

/** What a run file holds, without reading its data (for progress bars and `hutch runs show`). */
export interface RunFileSummary {
  readonly path: string;
  readonly run: number;
  readonly uid: string;
  readonly instrument: string;
  readonly part: number;
  /** Undefined while the file is written, or after a crash before `hutch recover`. */
  readonly exitStatus?: string;
  /** Readable rows per stream (the shortest dataset of each stream). */
  readonly rows: Record<string, number>;
}

/** Summarises a generic-layout run file: run, part, exit status and rows per stream. */
export async function runFileSummary(path: string): Promise<RunFileSummary> {
  const f = await openRunFile(path);
  try {
    if (attrOf(f, "hutch_layout") !== "generic") {
      throw new HutchError(ErrorCode.Validation, `${path} is not a generic-layout Hutch run file`);
    }
    const rows: Record<string, number> = {};
    for (const name of f.keys()) {
      const g = f.get(name);
      if (!g || !("keys" in g) || !g.attrs.descriptor) continue;
      const d = DescriptorSchema.parse(JSON.parse(String(g.attrs.descriptor.value))) as Descriptor;
      rows[d.stream] = cursorOf(f, d).rows;
    }
    const exit = attrOf(f, "exit_status");
    return {
      path,
      run: num(attrOf(f, "run")),
      uid: String(attrOf(f, "uid")),
      instrument: String(attrOf(f, "instrument")),
      part: num(attrOf(f, "part")),
      ...(exit !== undefined ? { exitStatus: String(exit) } : {}),
      rows,
    };
  } finally {
    f.close();
  }
}

function runStartOf(f: H5File): RunStart {
  const replay = attrOf(f, "replay");
  return {
    kind: "run-start",
    uid: String(attrOf(f, "uid")),
    run: num(attrOf(f, "run")),
    instrument: String(attrOf(f, "instrument")),
    plan: String(attrOf(f, "plan")),
    time: num(attrOf(f, "start_time")),
    config: JSON.parse(String(attrOf(f, "config"))) as Record<string, unknown>,
    hutchVersion: String(attrOf(f, "hutch_version")),
    ...(replay !== undefined ? { replay: JSON.parse(String(replay)) as RunStart["replay"] } : {}),
  };
}

function runStopOf(f: H5File): RunStop {
  return {
    kind: "run-stop",
    uid: String(attrOf(f, "stop_uid")),
    runUid: String(attrOf(f, "uid")),
    run: num(attrOf(f, "run")),
    time: num(attrOf(f, "stop_time")),
    exitStatus: String(attrOf(f, "exit_status")) as RunStop["exitStatus"],
    reason: String(attrOf(f, "reason")),
    counts: JSON.parse(String(attrOf(f, "counts"))) as Record<string, number>,
  };
}

function cursorOf(f: H5File, d: Descriptor): Cursor {
  const seq = f.get(`/${d.stream}/seq`) as Dataset;
  const time = f.get(`/${d.stream}/time`) as Dataset;
  const fields: [string, Dataset, boolean][] = Object.entries(d.fields).map(([k, spec]) => [
    k,
    f.get(fieldPath(d.stream, k)) as Dataset,
    spec.dtype === "string",
  ]);
  // While a file is written (or after a crash) datasets of a stream may differ in length: use the shortest.
  const rows = Math.min(seq.shape![0]!, time.shape![0]!, ...fields.map(([, ds]) => ds.shape![0]!));
  const rowBytes = fields.reduce(
    (n, [, ds]) => n + ds.metadata.size * ds.shape!.slice(1).reduce((a, b) => a * b, 1),
    16,
  );
  return { d, rows, at: 0, next: undefined, fields, seq, time, rowBytes };
}

function readPage(c: Cursor, opts: ReadRunFileOptions): Document | undefined {
  if (c.at >= c.rows) return undefined;
  const hasStrings = c.fields.some(([, , s]) => s);
  const maxRows = hasStrings
    ? 1
    : Math.max(1, Math.min(opts.pageRows ?? 4096, Math.floor((opts.pageBytes ?? 4 << 20) / c.rowBytes)));
  let n = Math.min(maxRows, c.rows - c.at);
  const seq = c.seq.slice([[c.at, c.at + n]]) as BigInt64Array;
  // A page holds consecutive seq numbers only.
  for (let i = 1; i < n; i++) if (seq[i] !== seq[0]! + BigInt(i)) n = i;
  const time = (c.time.slice([[c.at, c.at + n]]) as Float64Array).slice(0, n);
  const data: Record<string, NdArray> = {};
  const values: Record<string, string | NdArray> = {};
  for (const [k, ds, isString] of c.fields) {
    const spec = c.d.fields[k]!;
    const raw = ds.slice([[c.at, c.at + n]]);
    if (isString) {
      values[k] = (raw as string[])[0]!;
      continue;
    }
    const dtype: DType = spec.dtype === "bool" ? "uint8" : (spec.dtype as DType);
    const a = raw as TypedArray;
    const rowElems = spec.shape.reduce((x, y) => x * y, 1);
    data[k] = { dtype, shape: [n, ...spec.shape], data: a.subarray(0, n * rowElems) as TypedArray };
    values[k] = { dtype, shape: [...spec.shape], data: a.subarray(0, rowElems) as TypedArray };
  }
  const first = Number(seq[0]);
  c.at += n;
  if (hasStrings) {
    const ev: Record<string, string | number | bigint | boolean | NdArray> = {};
    for (const [k, v] of Object.entries(values)) {
      const spec = c.d.fields[k]!;
      if (typeof v === "string" || spec.shape.length > 0) ev[k] = v;
      else if (spec.dtype === "bool") ev[k] = v.data[0] !== 0;
      else ev[k] = scalar(v.data[0]!);
    }
    return {
      kind: "event",
      descriptor: c.d.uid,
      runUid: c.d.runUid,
      stream: c.d.stream,
      seq: first,
      time: time[0]!,
      data: ev,
    };
  }
  return {
    kind: "event-page",
    descriptor: c.d.uid,
    runUid: c.d.runUid,
    stream: c.d.stream,
    seq: first,
    n,
    time: { dtype: "float64", shape: [n], data: time },
    data,
  };
}

/** A bigint within the safe integer range becomes a number (as events carry them). */
function scalar(v: number | bigint): number | bigint {
  if (typeof v !== "bigint") return v;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function firstTime(doc: Document): number {
  return doc.kind === "event-page" ? (doc.time.data[0] as number) : doc.kind === "event" ? doc.time : 0;
}
