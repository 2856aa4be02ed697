// The document wire codec: ZeroMQ multipart [topic, msgpack header, ...raw array frames]; see docs/wire.md.
import { Decoder, Encoder } from "@msgpack/msgpack";
import {
  DocumentSchema,
  ErrorCode,
  HutchError,
  bytesOf,
  isDType,
  shapeSize,
  viewBytes,
  type Document,
  type EventPage,
  type NdArray,
} from "../core/index.js";

/** Version of the header layout; decoders refuse other versions. New optional header keys keep version 1. */
export const WIRE_VERSION = 1;

/** Placeholder for an array inside the header's `doc`: `{"$nd": i}` refers to `arrays[i]` and frame `2 + i`. */
const ND_KEY = "$nd";

/**
 * Why a message was rejected (the `details.reason` of its HUTCH_ERR_WIRE error, and a counter name):
 * `frames` fewer than 2 frames or a frame count that differs from the header's `arrays`; `header` not a
 * MessagePack map; `version` another `v`; `arrays` a bad array spec, a frame of the wrong size or a dangling
 * `{"$nd": i}`; `schema` a document that fails its schema; `topic` a topic that does not end with the kind.
 */
export const WIRE_REJECT_REASONS = ["frames", "header", "version", "arrays", "schema", "topic"] as const;
/** One rejection reason. */
export type WireRejectReason = (typeof WIRE_REJECT_REASONS)[number];

const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });
const decoder = new Decoder({ useBigInt64: true });
const MAX_EXACT = 2n ** 53n;
const MIN_EXACT = -(2n ** 53n);

/** A decoded message; `origin` is the node id of the publisher when it set one (echo suppression). */
export interface WireMessage {
  readonly topic: string;
  readonly doc: Document;
  readonly origin?: string;
}

/** Options of `encodeDocument`. */
export interface EncodeOptions {
  /** Node id of the publishing process, written to the header as `origin`. */
  readonly origin?: string;
}

function isNd(v: object): v is NdArray {
  return ArrayBuffer.isView((v as NdArray).data) && isDType((v as NdArray).dtype);
}

function reject(reason: WireRejectReason, message: string, cause?: unknown): HutchError {
  return new HutchError(ErrorCode.Wire, message, { cause, details: { reason } });
}

/** The rejection reason of an error thrown by `decodeDocument` (undefined for any other error). */
export function wireRejectReason(err: unknown): WireRejectReason | undefined {
  if (!(err instanceof HutchError) || err.code !== ErrorCode.Wire) return undefined;
  const r = err.details?.["reason"];
  return (WIRE_REJECT_REASONS as readonly unknown[]).includes(r) ? (r as WireRejectReason) : undefined;
}

/**
 * Encodes a document as multipart frames. Arrays become raw frames, never copied: do not mutate an array
 * after sending it.
 * @example const frames = encodeDocument("demo/waveforms/event-page", page); await pub.send(frames);
 */
export function encodeDocument(topic: string, doc: Document, opts: EncodeOptions = {}): Buffer[] {
  const arrays: { dtype: string; shape: readonly number[] }[] = [];
  const frames: Buffer[] = [Buffer.from(topic), Buffer.alloc(0)];
  const strip = (v: unknown): unknown => {
    if (typeof v !== "object" || v === null) return v;
    if (Array.isArray(v)) return v.map(strip);
    if (isNd(v)) {
      const b = bytesOf(v.data);
      frames.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      arrays.push({ dtype: v.dtype, shape: v.shape });
      return { [ND_KEY]: arrays.length - 1 };
    }
    if (ArrayBuffer.isView(v)) return v;
    const o: Record<string, unknown> = {};
    for (const k in v) o[k] = strip((v as Record<string, unknown>)[k]);
    return o;
  };
  const body = doc.kind === "event-page" ? pageBody(doc, frames, arrays) : strip(doc);
  const header = encoder.encode(
    opts.origin === undefined
      ? { v: WIRE_VERSION, kind: doc.kind, doc: body, arrays }
      : { v: WIRE_VERSION, kind: doc.kind, doc: body, arrays, origin: opts.origin },
  );
  frames[1] = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  return frames;
}

/** The header body of a page, built directly (the hot path): same result as the generic walk. */
function pageBody(
  p: EventPage,
  frames: Buffer[],
  arrays: { dtype: string; shape: readonly number[] }[],
): Record<string, unknown> {
  const ref = (a: NdArray): { [ND_KEY]: number } => {
    const d = a.data;
    frames.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    arrays.push({ dtype: a.dtype, shape: a.shape });
    return { [ND_KEY]: arrays.length - 1 };
  };
  const time = ref(p.time);
  const data: Record<string, unknown> = {};
  for (const k in p.data) data[k] = ref(p.data[k]!);
  return {
    kind: p.kind,
    descriptor: p.descriptor,
    runUid: p.runUid,
    stream: p.stream,
    seq: p.seq,
    n: p.n,
    time,
    data,
  };
}

/** Turns the header's array specs and frames into typed-array views (no copy when aligned). */
function viewArrays(topic: string, specs: unknown[], frames: readonly Uint8Array[]): NdArray[] {
  const out: NdArray[] = new Array<NdArray>(specs.length);
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i] as { dtype?: unknown; shape?: unknown } | null;
    const shape = spec?.shape;
    let ok = spec !== null && typeof spec === "object" && isDType(spec.dtype) && Array.isArray(shape);
    if (ok) for (const x of shape as unknown[]) if (!Number.isInteger(x) || (x as number) < 0) ok = false;
    if (!ok) {
      throw reject("arrays", `topic '${topic}': arrays[${i}] needs a dtype and a shape of integers >= 0`);
    }
    try {
      out[i] = viewBytes(spec!.dtype as NdArray["dtype"], shape as number[], frames[i + 2]!);
    } catch (cause) {
      throw reject("arrays", `topic '${topic}': arrays[${i}]: ${(cause as Error).message}`, cause);
    }
  }
  return out;
}

/** Replaces `{"$nd": i}` placeholders by arrays and exact bigints by numbers, in place. */
function restore(topic: string, v: unknown, arrays: readonly NdArray[]): unknown {
  if (typeof v === "bigint") return v >= MIN_EXACT && v <= MAX_EXACT ? Number(v) : v;
  if (typeof v !== "object" || v === null || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = restore(topic, v[i], arrays);
    return v;
  }
  const o = v as Record<string, unknown>;
  const ref = o[ND_KEY];
  if (ref !== undefined) {
    let keys = 0;
    for (const _ in o) keys++;
    if (keys === 1) {
      const a = typeof ref === "number" ? arrays[ref] : undefined;
      if (!a) throw reject("arrays", `topic '${topic}': array reference ${String(ref)} out of range`);
      return a;
    }
  }
  for (const k in o) o[k] = restore(topic, o[k], arrays);
  return o;
}

const NAME = /^[A-Za-z0-9_.-]+$/;
const isInt = (v: unknown, min: number): v is number => Number.isInteger(v) && (v as number) >= min;

/** The NdArraySchema check, written out. */
function isNdArray(v: unknown): v is NdArray {
  if (typeof v !== "object" || v === null) return false;
  const a = v as NdArray;
  if (!isDType(a.dtype) || !Array.isArray(a.shape) || !ArrayBuffer.isView(a.data)) return false;
  for (const x of a.shape) if (!isInt(x, 0)) return false;
  return (a.data as { length: number }).length === shapeSize(a.shape);
}

/**
 * EventPageSchema written out for the hot path: returns the page as zod would (unknown keys dropped), or
 * undefined when anything is off, in which case the caller runs zod for the exact error. wire.test.ts checks
 * that both agree.
 */
export function fastEventPage(v: unknown): EventPage | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const p = v as Record<string, unknown>;
  const { descriptor, runUid, stream, seq, n, time, data } = p;
  if (p["kind"] !== "event-page") return undefined;
  if (typeof descriptor !== "string" || descriptor.length === 0) return undefined;
  if (typeof runUid !== "string" || runUid.length === 0) return undefined;
  if (typeof stream !== "string" || !NAME.test(stream)) return undefined;
  if (!isInt(seq, 1) || !isInt(n, 0)) return undefined;
  if (!isNdArray(time) || time.dtype !== "float64" || time.data.length !== n) return undefined;
  if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
  const out: Record<string, NdArray> = {};
  for (const k in data) {
    const a = (data as Record<string, unknown>)[k];
    if (!isNdArray(a) || a.shape[0] !== n) return undefined;
    out[k] = a;
  }
  return { kind: "event-page", descriptor, runUid, stream, seq, n, time, data: out };
}

/**
 * Decodes and validates multipart frames. Throws HUTCH_ERR_WIRE naming the problem, with `details.reason`
 * one of WIRE_REJECT_REASONS (missing frames, bad header, unknown version, array frame of the wrong size,
 * document that fails its schema, topic that does not match); never crashes. Arrays view the frames' memory.
 */
export function decodeDocument(frames: readonly Uint8Array[]): WireMessage {
  if (frames.length < 2) {
    throw reject("frames", `expected at least 2 frames [topic, header], got ${frames.length}`);
  }
  const f0 = frames[0]!;
  const topic = Buffer.from(f0.buffer, f0.byteOffset, f0.byteLength).toString("utf8");
  let header: unknown;
  try {
    header = decoder.decode(frames[1]!);
  } catch (cause) {
    throw reject("header", `topic '${topic}': header is not valid MessagePack`, cause);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw reject("header", `topic '${topic}': header is not a map`);
  }
  const h = header as { v?: unknown; kind?: unknown; doc?: unknown; arrays?: unknown; origin?: unknown };
  if (h.v !== WIRE_VERSION) {
    throw reject("version", `topic '${topic}': wire version ${String(h.v)}, expected ${WIRE_VERSION}`);
  }
  const specs = Array.isArray(h.arrays) ? (h.arrays as unknown[]) : [];
  if (specs.length !== frames.length - 2) {
    throw reject(
      "frames",
      `topic '${topic}': header declares ${specs.length} array frame(s), message has ${frames.length - 2}`,
    );
  }
  const arrays = viewArrays(topic, specs, frames);
  const raw = restore(topic, h.doc, arrays);
  const fast = h.kind === "event-page" ? fastEventPage(raw) : undefined;
  const parsed = fast ? { success: true as const, data: fast } : DocumentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw reject(
      "schema",
      `topic '${topic}': invalid document at '${issue.path.join(".") || "(root)"}': ${issue.message}`,
      parsed.error,
    );
  }
  const doc = parsed.data;
  if (!topic.endsWith(doc.kind) || topic.charCodeAt(topic.length - doc.kind.length - 1) !== 47) {
    throw reject("topic", `topic '${topic}' does not end with the document kind '/${doc.kind}'`);
  }
  return typeof h.origin === "string" ? { topic, doc, origin: h.origin } : { topic, doc };
}
