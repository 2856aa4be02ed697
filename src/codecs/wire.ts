// The document wire codec: ZeroMQ multipart [topic, msgpack header, ...raw body frames]; see docs/wire.md.
import {
  DocumentSchema,
  ErrorCode,
  HutchError,
  dtypeSize,
  isDType,
  shapeSize,
  viewBytes,
  viewTyped,
  type Document,
  type EventPage,
  type NdArray,
} from "../core/index.js";
import { packHeader } from "./wire-pack-header.js";
import { readText, unpackHeader, type HeaderRefs } from "./wire-unpack-header.js";
import { WIRE_VERSION, wireError } from "./wire-version.js";

export { WIRE_VERSION };

/**
 * Why a message was rejected (the `details.reason` of its HUTCH_ERR_WIRE error, and a counter name):
 * `frames` fewer than 2 frames or a number of body frames that differs from what the header's `arrays` refer to;
 * `header` not a MessagePack map; `version` a `v` other than 1 or 2; `arrays` a bad array spec, an array that
 * does not fit its frame or a dangling `{"$nd": i}`; `schema` a document that fails its schema; `topic` a topic that does not end with the kind.
 */
export const WIRE_REJECT_REASONS = ["frames", "header", "version", "arrays", "schema", "topic"] as const;
/** One rejection reason. */
export type WireRejectReason = (typeof WIRE_REJECT_REASONS)[number];

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

function reject(reason: WireRejectReason, message: string, cause?: unknown): HutchError {
  return wireError(reason, message, cause);
}

/** The rejection reason of an error thrown by `decodeDocument` (undefined for any other error). */
export function wireRejectReason(err: unknown): WireRejectReason | undefined {
  if (!(err instanceof HutchError) || err.code !== ErrorCode.Wire) return undefined;
  const r = err.details?.["reason"];
  return (WIRE_REJECT_REASONS as readonly unknown[]).includes(r) ? (r as WireRejectReason) : undefined;
}

/**
 * Encodes a document as multipart frames `[topic, header, ...bodies]`. Arrays are never copied: arrays that lie
 * together in one buffer (page columns carved from one allocation) travel as one body frame, any other array as
 * a frame of its own. Do not mutate an array after sending it. Throws HUTCH_ERR_WIRE for values MessagePack
 * cannot carry (functions, bigints past 64 bits).
 * @example const frames = encodeDocument("demo/waveforms/event-page", page); await pub.send(frames);
 */
export function encodeDocument(topic: string, doc: Document, opts: EncodeOptions = {}): Buffer[] {
  let t = topics.get(topic);
  if (t === undefined) {
    if (topics.size >= TOPICS_MAX) topics.clear();
    topics.set(topic, (t = Buffer.from(topic)));
  }
  const frames: Buffer[] = [t, EMPTY];
  frames[1] = packHeader(doc.kind, doc, opts.origin, frames);
  return frames;
}

const EMPTY = Buffer.alloc(0);
/** Topic frames by topic: a bus has a few dozen topics; ZeroMQ copies or references them, never writes them. */
const topics = new Map<string, Buffer>();
const TOPICS_MAX = 4096;

/** Versions read: 1 (array i is the whole of frame 2 + i) and 2 (array i at `offset` of body frame `frame`). */
const READ_VERSIONS: readonly unknown[] = [1, WIRE_VERSION];

const NAME = /^[A-Za-z0-9_.-]+$/;
const isInt = (v: unknown, min: number): v is number => Number.isInteger(v) && (v as number) >= min;

type SpecIn = { dtype?: unknown; shape?: unknown; frame?: unknown; offset?: unknown } | null;

/** Turns the header's array specs and body frames into typed-array views (no copy when aligned). */
function viewArrays(topic: string, v: number, specs: unknown[], frames: readonly Uint8Array[]): NdArray[] {
  const bodies = frames.length - 2;
  const out: NdArray[] = new Array<NdArray>(specs.length);
  let used = 0;
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i] as SpecIn;
    const shape = spec?.shape;
    let ok = spec !== null && typeof spec === "object" && isDType(spec.dtype) && Array.isArray(shape);
    if (ok) for (const x of shape as unknown[]) if (!Number.isInteger(x) || (x as number) < 0) ok = false;
    const k = v === 1 ? i : spec?.frame;
    const at = v === 1 ? 0 : spec?.offset;
    if (!ok || !isInt(k, 0) || !isInt(at, 0)) {
      const what = v === 1 ? "a dtype and a shape" : "a dtype, a shape, a frame and an offset";
      throw reject("arrays", `topic '${topic}': arrays[${i}] needs ${what} of integers >= 0`);
    }
    if (k >= bodies) {
      throw reject("frames", `topic '${topic}': arrays[${i}] is in body frame ${k}, message has ${bodies}`);
    }
    if (k >= used) used = k + 1;
    const dtype = spec!.dtype as NdArray["dtype"];
    const f = frames[k + 2]!;
    const item = dtypeSize(dtype);
    const count = shapeSize(shape as number[]);
    const size = item * count;
    if (v === 1 ? f.byteLength !== size : at + size > f.byteLength) {
      throw reject(
        "arrays",
        `topic '${topic}': arrays[${i}] (${dtype} [${(shape as number[]).join(",")}]) needs ${size} bytes at ` +
          `offset ${at} of body frame ${k}, which holds ${f.byteLength}`,
      );
    }
    const byteOffset = f.byteOffset + at;
    out[i] =
      byteOffset % item === 0
        ? { dtype, shape: shape as number[], data: viewTyped(dtype, f.buffer, byteOffset, count) }
        : viewBytes(dtype, shape as number[], new Uint8Array(f.buffer, byteOffset, size)); // copies it
  }
  if (used !== bodies) {
    throw reject(
      "frames",
      `topic '${topic}': header's arrays use ${used} body frame(s), message has ${bodies}`,
    );
  }
  return out;
}

/** The NdArraySchema check, written out. */
function isNdArray(v: unknown): v is NdArray {
  if (typeof v !== "object" || v === null) return false;
  const a = v as NdArray;
  if (!isDType(a.dtype) || !Array.isArray(a.shape) || !ArrayBuffer.isView(a.data)) return false;
  for (const x of a.shape) if (!isInt(x, 0)) return false;
  return (a.data as { length: number }).length === shapeSize(a.shape);
}

/**
 * EventPageSchema written out for the hot path: returns the page as zod would (unknown keys dropped; the page
 * itself when it has none), or undefined when anything is off, in which case the caller runs zod for the exact error. wire.test.ts checks
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
  for (const k in data) {
    const a = (data as Record<string, unknown>)[k];
    if (!isNdArray(a) || a.shape[0] !== n) return undefined;
  }
  if (Object.keys(p).length === PAGE_KEYS && Object.getPrototypeOf(data) === Object.prototype) {
    return p as unknown as EventPage;
  }
  const out: Record<string, NdArray> = {};
  for (const k of Object.keys(data)) out[k] = (data as Record<string, NdArray>)[k]!;
  return { kind: "event-page", descriptor, runUid, stream, seq, n, time, data: out };
}

/** The keys of an event page: a page with no others is returned as it is (nothing to drop). */
const PAGE_KEYS = 8;

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
  const topic = readText(Buffer.isBuffer(f0) ? f0 : Buffer.from(f0.buffer, f0.byteOffset), 0, f0.byteLength);
  let header: unknown;
  let refs: HeaderRefs;
  try {
    ({ header, refs } = unpackHeader(frames[1]!));
  } catch (err) {
    const reason = wireRejectReason(err) ?? "header";
    const what = reason === "header" ? "header is not valid MessagePack: " : "";
    throw reject(reason, `topic '${topic}': ${what}${(err as Error).message}`, err);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw reject("header", `topic '${topic}': header is not a map`);
  }
  const h = header as { v?: unknown; kind?: unknown; doc?: unknown; arrays?: unknown; origin?: unknown };
  if (!READ_VERSIONS.includes(h.v)) {
    throw reject(
      "version",
      `topic '${topic}': wire version ${String(h.v)}, this reader reads versions 1 and 2`,
    );
  }
  const specs = Array.isArray(h.arrays) ? (h.arrays as unknown[]) : [];
  if (h.v === 1 && specs.length !== frames.length - 2) {
    throw reject(
      "frames",
      `topic '${topic}': header declares ${specs.length} array frame(s), message has ${frames.length - 2}`,
    );
  }
  const arrays = viewArrays(topic, h.v as number, specs, frames);
  for (const [parent, key, ref] of refs) {
    const a = arrays[ref.i];
    if (!a) throw reject("arrays", `topic '${topic}': array reference ${ref.i} out of range`);
    (parent as Record<string | number, unknown>)[key] = a;
  }
  const raw = h.doc;
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
