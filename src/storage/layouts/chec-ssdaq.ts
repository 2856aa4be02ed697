// The CHEC-S SSDAQ file flavour: PyTables table /SlowSignal/readout (2019 columns) from built camera events.
import { ErrorCode, HUTCH_VERSION, HutchError, type Descriptor, type EventPage } from "../../core/index.js";
import {
  attr,
  chunkRowsFor,
  elementBytes,
  type Attrs,
  type AttrValue,
  type CompoundType,
} from "../h5-types.js";
import type { LayoutFactory, LayoutOptions, RunFileLayout } from "../layout.js";
import { layoutNames, registerLayout } from "../layout-registry.js";
import { arrayPlaceholderMembers, patchArrayMember } from "./chec-ssdaq-array-member.js";

/** Path of the SSDAQ table. */
export const CHEC_SSDAQ_TABLE = "/SlowSignal/readout";
/** Camera shape of the `data` column: modules x pixels. */
export const CHEC_SSDAQ_SHAPE = [32, 64] as const;
const DATA_OFFSET = 40;
const PIXELS = CHEC_SSDAQ_SHAPE[0] * CHEC_SSDAQ_SHAPE[1];

/** The 2019 row as written (the `data` column as its placeholder pair until {@link finishChecSsdaqFile}). */
export const CHEC_SSDAQ_ROW_TYPE: CompoundType = {
  compound: [
    { name: "iro", type: "uint64" },
    { name: "time", type: "uint64" },
    { name: "cpu_t", type: "float64" },
    { name: "cpu_t_s", type: "uint64" },
    { name: "cpu_t_ns", type: "uint64" },
    ...arrayPlaceholderMembers({ name: "data", shape: CHEC_SSDAQ_SHAPE }),
  ],
};
/** Bytes per row: 5 x 8 + 2048 x 4 = 8232. */
export const CHEC_SSDAQ_ROW_BYTES = elementBytes(CHEC_SSDAQ_ROW_TYPE);

const COLUMNS = ["iro", "time", "cpu_t", "cpu_t_s", "cpu_t_ns", "data"] as const;

/** PyTables' table attributes (CLASS, VERSION, TITLE, FIELD_n_NAME/FILL, NROWS) and the SSDAQ ones. */
function tableAttrs(rows: number): Attrs {
  const fields: Record<string, AttrValue> = {};
  COLUMNS.forEach((c, i) => {
    fields[`FIELD_${i}_NAME`] = c;
    fields[`FIELD_${i}_FILL`] =
      c === "cpu_t" ? attr.float64(0) : c === "data" ? Float32Array.of(0) : BigUint64Array.of(0n);
  });
  return {
    CLASS: "TABLE",
    VERSION: "2.7",
    TITLE: "",
    NROWS: attr.int64(rows),
    ...fields,
    ss_data_version: attr.int64(0),
    ss_software_version: `hutch ${HUTCH_VERSION}`,
    // pixel_map[module][pixel] = camera pixel id (module * 64 + pixel: TARGET-C order, as SSDAQ 2019)
    pixel_map: BigInt64Array.from({ length: PIXELS }, (_, i) => BigInt(i)),
  };
}

/** True for a stream of built camera events (event_number, timestamp, data float32[32,64]). */
export function isChecEventStream(d: Descriptor): boolean {
  const f = d.fields;
  return (
    f.event_number?.dtype === "uint64" &&
    f.timestamp?.dtype === "uint64" &&
    f.data?.dtype === "float32" &&
    f.data.shape.length === 2 &&
    f.data.shape[0] === CHEC_SSDAQ_SHAPE[0] &&
    f.data.shape[1] === CHEC_SSDAQ_SHAPE[1]
  );
}

/**
 * Packs `page`'s events into SSDAQ rows (little-endian): iro = event_number, time = timestamp (TACK ns),
 * cpu_t = event time (unix s), cpu_t_s / cpu_t_ns = its seconds and nanoseconds, data = mV per pixel.
 */
export function packChecSsdaqRows(page: EventPage): Uint8Array {
  const n = page.n;
  const iro = page.data.event_number?.data as BigUint64Array | undefined;
  const tack = page.data.timestamp?.data as BigUint64Array | undefined;
  const data = page.data.data?.data as Float32Array | undefined;
  if (!iro || !tack || !data || data.length !== n * PIXELS) {
    throw new HutchError(
      ErrorCode.Validation,
      `chec-ssdaq: stream '${page.stream}' lacks camera event fields`,
    );
  }
  const time = page.time.data as Float64Array;
  const out = new Uint8Array(n * CHEC_SSDAQ_ROW_BYTES);
  const v = new DataView(out.buffer);
  const f32 = new Float32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const o = i * CHEC_SSDAQ_ROW_BYTES;
    const t = time[i]!;
    const s = Math.floor(t);
    v.setBigUint64(o, iro[i]!, true);
    v.setBigUint64(o + 8, tack[i]!, true);
    v.setFloat64(o + 16, t, true);
    v.setBigUint64(o + 24, BigInt(s), true);
    v.setBigUint64(o + 32, BigInt(Math.min(999_999_999, Math.round((t - s) * 1e9))), true);
    // 8232 and 40 are multiples of 4: the float32 view is aligned.
    f32.set(data.subarray(i * PIXELS, (i + 1) * PIXELS), (o + DATA_OFFSET) / 4);
  }
  return out;
}

/**
 * Makes the `chec-ssdaq` layout: every stream of built camera events is appended to `/SlowSignal/readout`, rows
 * chunked by about `chunkBytes` (gzip as the stream's). The `data` column becomes `float32[32,64]` when the closed
 * file goes through {@link finishChecSsdaqFile}.
 */
export const checSsdaqLayout: LayoutFactory = (opts: LayoutOptions): RunFileLayout => {
  const streams = new Set<string>();
  let rows = 0;
  return {
    name: "chec-ssdaq",
    onRunStart(w) {
      rows = 0;
      w.group("/SlowSignal", { CLASS: "GROUP", VERSION: "1.0", TITLE: "" });
      w.dataset(CHEC_SSDAQ_TABLE, {
        type: CHEC_SSDAQ_ROW_TYPE,
        rowShape: [],
        chunkRows: chunkRowsFor(CHEC_SSDAQ_ROW_BYTES, opts.chunkBytes),
        gzip: opts.gzipFor("readout"),
        attrs: tableAttrs(0),
      });
    },
    onDescriptor(_w, d) {
      if (isChecEventStream(d)) streams.add(d.uid);
    },
    onPage(w, page, d) {
      if (!streams.has(d.uid) || page.n === 0) return;
      w.append(CHEC_SSDAQ_TABLE, page.n, packChecSsdaqRows(page));
      rows += page.n;
    },
    onRunStop(w) {
      w.attrs(CHEC_SSDAQ_TABLE, { NROWS: attr.int64(rows) });
    },
    // h5wasm cannot create the array member: the closed parts get their real `data` type here.
    onFilesClosed(paths) {
      for (const p of paths) finishChecSsdaqFile(p);
    },
  };
};

/**
 * Gives the `data` column of a closed file written with `chec-ssdaq` its real type `float32[32,64]` (rewrites the
 * table's datatype message in place; values are unchanged). Returns false when the file has no placeholder left.
 */
export function finishChecSsdaqFile(path: string): boolean {
  const patched = patchArrayMember(
    path,
    { name: "data", shape: CHEC_SSDAQ_SHAPE },
    DATA_OFFSET,
    CHEC_SSDAQ_ROW_BYTES,
  );
  return patched > 0;
}

// Registered when the storage layer is loaded, so `layouts: [generic, chec-ssdaq]` works in any hdf5-writer.
if (!layoutNames().includes("chec-ssdaq")) registerLayout("chec-ssdaq", checSsdaqLayout);
