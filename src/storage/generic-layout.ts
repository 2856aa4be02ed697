// The generic layout: run attributes at the root, one group per stream with seq, time and one dataset per field.
import {
  allocTyped,
  ErrorCode,
  HutchError,
  shapeSize,
  type Descriptor,
  type Event,
  type FieldSpec,
  type NdArray,
  type RunStart,
  type RunStop,
  type TypedArray,
} from "../core/index.js";
import { attr, chunkRowsFor, elementBytes, type Attrs, type ColumnType } from "./h5-types.js";
import type { LayoutOptions, LayoutWriter, RunFileLayout } from "./layout.js";

/** Version of the generic layout, stored as the root attribute `hutch_layout_version`. */
export const GENERIC_LAYOUT_VERSION = 1;

/** Bytes assumed per variable-length string row when sizing chunks. */
const STRING_ROW_BYTES = 16;

const basename = (p: string) => p.slice(p.lastIndexOf("/") + 1);

/** The path of a field's dataset: `/<stream>/data/<field>`. */
export const fieldPath = (stream: string, field: string) => `/${stream}/data/${field}`;

function columnType(f: FieldSpec): ColumnType {
  return f.dtype === "string" ? "string" : f.dtype === "bool" ? "bool" : f.dtype;
}

function rowBytesOf(f: FieldSpec): number {
  return f.dtype === "string" ? STRING_ROW_BYTES : elementBytes(columnType(f)) * shapeSize(f.shape);
}

/** The root attributes of a run (written in every part). */
export function runStartAttrs(start: RunStart, part: number): Attrs {
  return {
    hutch_layout: "generic",
    hutch_layout_version: attr.int64(GENERIC_LAYOUT_VERSION),
    run: attr.int64(start.run),
    uid: start.uid,
    instrument: start.instrument,
    plan: start.plan,
    start_time: attr.float64(start.time),
    hutch_version: start.hutchVersion,
    config: JSON.stringify(start.config),
    part: attr.int64(part),
    ...(start.replay ? { replay: JSON.stringify(start.replay) } : {}),
  };
}

/**
 * Makes the generic layout (see docs/files.md): root attributes of the run; per stream `/<stream>` with
 * `seq` (int64), `time` (float64 unix s) and `data/<field>` (dtype, shape [n, ...shape], attributes dtype,
 * shape, units). Strings are variable-length UTF-8, bools uint8 0/1 with attribute dtype "bool".
 * A stream with gzip uses one chunk size for all its datasets, so their lengths stay equal on disk.
 */
export function genericLayout(opts: LayoutOptions): RunFileLayout {
  const missing = new Map<string, number>();
  /** The streams of the current file: every field laid out so far (all descriptors of the run), rows written. */
  const streams = new Map<string, StreamState>();

  const chunkRows = (st: StreamState, rowBytes: number) =>
    st.shared || chunkRowsFor(rowBytes, opts.chunkBytes);

  const addField = (w: LayoutWriter, st: StreamState, stream: string, name: string, f: FieldSpec) => {
    const attrs: Record<string, Attrs[string]> = { dtype: f.dtype, shape: attr.int64s(f.shape) };
    if (f.units !== undefined) attrs.units = f.units;
    if (f.source !== undefined) attrs.source = f.source;
    if (f.description !== undefined) attrs.description = f.description;
    w.dataset(fieldPath(stream, name), {
      type: columnType(f),
      rowShape: f.dtype === "string" ? [] : f.shape,
      chunkRows: chunkRows(st, rowBytesOf(f)),
      gzip: st.gzip,
      attrs,
    });
    st.fields.set(name, f);
  };

  /**
   * A stream declared again during the run (a roi-sum node given a new ROI, say): fields it adds get datasets whose
   * earlier rows hold the missing-value fill, fields it drops are filled from then on, so every dataset of the
   * stream keeps one row per event; the group's `descriptor` becomes the union. A field whose dtype or shape
   * changes cannot share its dataset and is refused.
   */
  const redeclare = (w: LayoutWriter, st: StreamState, d: Descriptor) => {
    for (const [name, f] of Object.entries(d.fields)) {
      const was = st.fields.get(name);
      if (was) {
        if (was.dtype !== f.dtype || was.shape.join(",") !== f.shape.join(",")) {
          throw new HutchError(
            ErrorCode.Validation,
            `${d.stream}.${name}: declared again as ${f.dtype} [${f.shape.join(",")}] during the run, was ${was.dtype} [${was.shape.join(",")}]`,
          );
        }
        continue;
      }
      addField(w, st, d.stream, name, f);
      if (st.rows > 0) column(w, fieldPath(d.stream, name), st.rows, f, undefined, `${d.stream}.${name}`);
    }
    w.attrs(`/${d.stream}`, descriptorAttrs({ ...d, fields: Object.fromEntries(st.fields) }));
  };

  const column = (
    w: LayoutWriter,
    path: string,
    n: number,
    f: FieldSpec,
    a: NdArray | undefined,
    what: string,
  ) => {
    const elems = n * shapeSize(f.shape);
    if (f.dtype === "string") {
      w.append(path, n, new Array<string>(n).fill(""));
      missing.set(what, (missing.get(what) ?? 0) + n);
      return;
    }
    if (!a) {
      missing.set(what, (missing.get(what) ?? 0) + n);
      const fill = allocTyped(f.dtype === "bool" ? "uint8" : f.dtype, elems);
      if (fill instanceof Float32Array || fill instanceof Float64Array) fill.fill(NaN);
      w.append(path, n, fill);
      return;
    }
    const want = f.dtype === "bool" ? ["uint8", "int8"] : [f.dtype];
    if (!want.includes(a.dtype) || a.data.length !== elems) {
      throw new HutchError(
        ErrorCode.Validation,
        `${what}: got ${a.dtype}[${a.shape.join(",")}], the descriptor declares ${f.dtype} [${f.shape.join(",")}] per event (${n} events)`,
      );
    }
    w.append(path, n, a.data);
  };

  return {
    name: "generic",
    onRunStart(w, start) {
      streams.clear(); // a new file (run or part): its streams are declared again
      w.attrs("/", runStartAttrs(start, w.part));
    },
    onDescriptor(w, d) {
      const g = `/${d.stream}`;
      const known = streams.get(d.stream);
      if (known) return redeclare(w, known, d);
      const gzip = opts.gzipFor(d.stream);
      const fields = Object.entries(d.fields);
      // Compressed streams share one chunk size, so whole-chunk writes keep their datasets equally long.
      const shared =
        gzip > 0 ? chunkRowsFor(Math.max(8, ...fields.map(([, f]) => rowBytesOf(f))), opts.chunkBytes) : 0;
      const st: StreamState = { fields: new Map(), rows: 0, gzip, shared };
      streams.set(d.stream, st);
      w.group(g, descriptorAttrs(d));
      w.dataset(`${g}/seq`, { type: "int64", rowShape: [], chunkRows: chunkRows(st, 8), gzip });
      w.dataset(`${g}/time`, {
        type: "float64",
        rowShape: [],
        chunkRows: chunkRows(st, 8),
        gzip,
        attrs: { units: "s" },
      });
      w.group(`${g}/data`);
      for (const [name, f] of fields) addField(w, st, d.stream, name, f);
    },
    onPage(w, p, d) {
      if (p.n === 0) return;
      const st = streams.get(d.stream)!;
      const seq = new BigInt64Array(p.n);
      for (let i = 0; i < p.n; i++) seq[i] = BigInt(p.seq + i);
      w.append(`/${d.stream}/seq`, p.n, seq);
      w.append(`/${d.stream}/time`, p.n, p.time.data);
      for (const [name, f] of st.fields) {
        column(w, fieldPath(d.stream, name), p.n, f, p.data[name], `${d.stream}.${name}`);
      }
      st.rows += p.n;
    },
    onEvent(w, e, d) {
      const st = streams.get(d.stream)!;
      w.append(`/${d.stream}/seq`, 1, BigInt64Array.of(BigInt(e.seq)));
      w.append(`/${d.stream}/time`, 1, Float64Array.of(e.time));
      for (const [name, f] of st.fields) {
        const path = fieldPath(d.stream, name);
        const v = e.data[name];
        if (f.dtype === "string" && typeof v === "string") w.append(path, 1, [v]);
        else
          column(
            w,
            path,
            1,
            f,
            v === undefined ? undefined : scalarArray(v, f, `${d.stream}.${name}`),
            `${d.stream}.${name}`,
          );
      }
      st.rows += 1;
    },
    onRunStop(w, stop: RunStop) {
      w.attrs("/", {
        stop_time: attr.float64(stop.time),
        exit_status: stop.exitStatus,
        reason: stop.reason,
        stop_uid: stop.uid,
        counts: JSON.stringify(stop.counts),
        parts: w.parts.map(basename),
        ...(missing.size ? { missing_values: JSON.stringify(Object.fromEntries(missing)) } : {}),
      });
    },
  };
}

/** What the generic layout keeps of a stream in the current file. */
interface StreamState {
  readonly fields: Map<string, FieldSpec>;
  rows: number;
  readonly gzip: number;
  /** Rows per chunk shared by all datasets of a compressed stream (0: per dataset). */
  readonly shared: number;
}

/** The attributes of a stream's group: its descriptor (uid, time, the whole document as JSON), its component. */
function descriptorAttrs(d: Descriptor): Attrs {
  return {
    descriptor_uid: d.uid,
    descriptor_time: attr.float64(d.time),
    descriptor: JSON.stringify(d),
    ...(d.component ? { component: d.component } : {}),
  };
}

/** An event value as a one-row array of the field's dtype. */
function scalarArray(v: Event["data"][string], f: FieldSpec, what: string): NdArray {
  if (typeof v === "object") return v;
  if (f.dtype === "string") throw new HutchError(ErrorCode.Validation, `${what}: expected a string`);
  const dtype = f.dtype === "bool" ? "uint8" : f.dtype;
  if (shapeSize(f.shape) !== 1 || f.shape.length > 0) {
    throw new HutchError(ErrorCode.Validation, `${what}: expected an array of shape [${f.shape.join(",")}]`);
  }
  const a: TypedArray = allocTyped(dtype, 1);
  const integer = !dtype.startsWith("float");
  if (integer && typeof v === "number" && !Number.isInteger(v)) {
    throw new HutchError(ErrorCode.Validation, `${what}: ${v} is not an integer (field dtype ${f.dtype})`);
  }
  if (a instanceof BigInt64Array || a instanceof BigUint64Array)
    a[0] = BigInt(typeof v === "boolean" ? Number(v) : v);
  else (a as Float64Array)[0] = Number(v);
  return { dtype, shape: [], data: a };
}
