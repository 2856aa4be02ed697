// Binary monitor frames for the dashboard WebSocket: one message = length + MessagePack header + aligned raw arrays.
// Pure (no Node APIs): the page imports the decoder from here too. Layout in docs/dashboard.md.
import { decode, encode } from "@msgpack/msgpack";

/** Version of the frame layout; decoders refuse others. */
export const FRAME_VERSION = 1;

/** Element types a frame carries (little-endian, numpy names). */
const CTORS = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;
/** A dtype a frame can carry (64-bit integers are sent as float64). */
export type FrameDType = keyof typeof CTORS;
/** A typed array a frame can carry. */
export type FrameArray = InstanceType<(typeof CTORS)[FrameDType]>;

/** An array inside a frame: dtype, shape and the typed array (a view of the message, no copy). */
export interface FrameNd {
  readonly dtype: FrameDType;
  readonly shape: readonly number[];
  readonly data: FrameArray;
}

/** What a frame carries: the panel it is for, a kind, times, and a body whose arrays travel raw. */
export interface MonitorFrame {
  /** Panel id, or `$status`, `$layout`, `$alarms`. */
  readonly panel: string;
  /** What the body holds (`hist`, `image`, `series`, ...), chosen by the feed. */
  readonly kind: string;
  /** Server time of the frame, unix seconds. */
  readonly t: number;
  /** Time of the newest source document in it, unix seconds (event-to-paint latency is measured from it). */
  readonly src?: number;
  /** Any MessagePack-able value; typed arrays and `{dtype, shape, data}` objects become raw frames. */
  readonly body: unknown;
}

const ALIGN = 8;
const ND_KEY = "$nd";

function dtypeOf(a: ArrayBufferView): FrameDType | undefined {
  for (const [k, C] of Object.entries(CTORS)) if (a instanceof C) return k as FrameDType;
  return undefined;
}

/**
 * Encodes a frame: `u32 LE header length`, MessagePack header `{v, panel, kind, t, src, body, arrays}`, then
 * each array's bytes at an 8-aligned offset from the message start (so the page views them without copying).
 * In `body`, arrays are replaced by `{"$nd": i}` referring to `arrays[i] = {dtype, shape, offset, bytes}`.
 */
export function encodeFrame(frame: MonitorFrame): Uint8Array {
  const specs: { dtype: FrameDType; shape: number[]; offset: number; bytes: number }[] = [];
  const chunks: Uint8Array[] = [];
  const ref = (dtype: FrameDType, shape: readonly number[], data: ArrayBufferView) => {
    specs.push({ dtype, shape: [...shape], offset: 0, bytes: data.byteLength });
    chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return { [ND_KEY]: specs.length - 1 };
  };
  const strip = (v: unknown): unknown => {
    if (typeof v !== "object" || v === null) return typeof v === "bigint" ? Number(v) : v;
    if (Array.isArray(v)) return v.map(strip);
    if (ArrayBuffer.isView(v)) {
      const d = dtypeOf(v);
      if (d) return ref(d, [(v as FrameArray).length], v);
      if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
        return ref("float64", [v.length], Float64Array.from(v as ArrayLike<bigint>, Number));
      }
      return v;
    }
    const o = v as Record<string, unknown>;
    if (ArrayBuffer.isView(o.data) && Array.isArray(o.shape) && typeof o.dtype === "string") {
      const data = o.data as ArrayBufferView;
      const d = dtypeOf(data);
      const arr = d ? data : Float64Array.from(data as unknown as ArrayLike<bigint>, Number);
      return ref(d ?? "float64", o.shape as number[], arr);
    }
    const out: Record<string, unknown> = {};
    for (const k in o) if (o[k] !== undefined) out[k] = strip(o[k]);
    return out;
  };
  const body = strip(frame.body);
  // Offsets depend on the header length, which depends on the offsets: reserve them with a first pass.
  const headerOf = () =>
    encode({
      v: FRAME_VERSION,
      panel: frame.panel,
      kind: frame.kind,
      t: frame.t,
      ...(frame.src === undefined ? {} : { src: frame.src }),
      body,
      arrays: specs,
    });
  for (const s of specs) s.offset = 0xffffffff; // widest msgpack uint, so the real header is never longer
  const maxHeader = headerOf().byteLength;
  let offset = align(4 + maxHeader);
  for (const s of specs) {
    s.offset = offset;
    offset = align(offset + s.bytes);
  }
  const header = headerOf();
  const out = new Uint8Array(offset);
  new DataView(out.buffer).setUint32(0, header.byteLength, true);
  out.set(header, 4);
  specs.forEach((s, i) => out.set(chunks[i]!, s.offset));
  return out;
}

const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/**
 * Decodes a frame; arrays view `buf` without copying. Throws an Error naming the problem for a bad message.
 * @example ws.binaryType = "arraybuffer"; ws.onmessage = (e) => decodeFrame(e.data);
 */
export function decodeFrame(buf: ArrayBuffer | Uint8Array): MonitorFrame {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  if (bytes.byteLength < 4) throw new Error(`monitor frame: ${bytes.byteLength} bytes, need at least 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = view.getUint32(0, true);
  if (4 + hlen > bytes.byteLength) throw new Error(`monitor frame: header length ${hlen} past the end`);
  const h = decode(bytes.subarray(4, 4 + hlen)) as {
    v?: unknown;
    panel?: unknown;
    kind?: unknown;
    t?: unknown;
    src?: unknown;
    body?: unknown;
    arrays?: { dtype: FrameDType; shape: number[]; offset: number; bytes: number }[];
  };
  if (h.v !== FRAME_VERSION)
    throw new Error(`monitor frame: version ${String(h.v)}, expected ${FRAME_VERSION}`);
  const arrays: FrameNd[] = (h.arrays ?? []).map((s, i) => {
    const C = CTORS[s.dtype];
    if (!C || s.offset + s.bytes > bytes.byteLength) throw new Error(`monitor frame: bad arrays[${i}]`);
    const start = bytes.byteOffset + s.offset;
    const n = s.bytes / C.BYTES_PER_ELEMENT;
    const data =
      start % C.BYTES_PER_ELEMENT === 0
        ? new C(bytes.buffer as ArrayBuffer, start, n)
        : new C(bytes.slice(s.offset, s.offset + s.bytes).buffer);
    return { dtype: s.dtype, shape: s.shape, data };
  });
  const restore = (v: unknown): unknown => {
    if (typeof v !== "object" || v === null || ArrayBuffer.isView(v)) return v;
    if (Array.isArray(v)) return v.map(restore);
    const o = v as Record<string, unknown>;
    if (typeof o[ND_KEY] === "number" && Object.keys(o).length === 1) return arrays[o[ND_KEY] as number];
    for (const k in o) o[k] = restore(o[k]);
    return o;
  };
  return {
    panel: String(h.panel),
    kind: String(h.kind),
    t: Number(h.t),
    ...(typeof h.src === "number" ? { src: h.src } : {}),
    body: restore(h.body),
  };
}
