// The document wire codec: ZeroMQ multipart [topic, msgpack header, ...raw array frames]; see docs/wire.md.
import {
  DocumentSchema,
  ErrorCode,
  HutchError,
  isDType,
  shapeSize,
  viewBytes,
  type Document,
  type EventPage,
  type NdArray,
} from "../core/index.js";
import { WIRE_VERSION, packHeader, unpackHeader, wireError, type HeaderRefs } from "./wire-msgpack.js";

export { WIRE_VERSION };

/**
 * Why a message was rejected (the `details.reason` of its HUTCH_ERR_WIRE error, and a counter name):
 * `frames` fewer than 2 frames or a frame count that differs from the header's `arrays`; `header` not a
 * MessagePack map; `version` another `v`; `arrays` a bad array spec, a frame of the wrong size or a dangling
 * `{"$nd": i}`; `schema` a document that fails its schema; `topic` a topic that does not end with the kind.
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
 * Encodes a document as multipart frames. Arrays become raw frames, never copied: do not mutate an array
 * after sending it. Throws HUTCH_ERR_WIRE for values MessagePack cannot carry (functions, bigints past 64 bits).
 * @example const frames = encodeDocument("demo/waveforms/event-page", page); await pub.send(frames);
 */
export function encodeDocument(topic: string, doc: Document, opts: EncodeOptions = {}): Buffer[] {
  const frames: Buffer[] = [Buffer.from(topic), EMPTY];
  frames[1] = packHeader(doc.kind, doc, opts.origin, frames);
  return frames;
}

const EMPTY = Buffer.alloc(0);

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
