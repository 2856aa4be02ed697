// The document wire codec: ZeroMQ multipart [topic, msgpack header, ...raw array frames]; see docs/wire.md.
import { Decoder, Encoder } from "@msgpack/msgpack";
import {
  DocumentSchema,
  ErrorCode,
  HutchError,
  bytesOf,
  isDType,
  viewBytes,
  type Document,
  type NdArray,
} from "../core/index.js";

/** Version of the header layout; decoders refuse other versions. */
export const WIRE_VERSION = 1;

/** Placeholder for an array inside the header's `doc`: `{"$nd": i}` refers to `arrays[i]` and frame `2 + i`. */
const ND_KEY = "$nd";

const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });
const decoder = new Decoder({ useBigInt64: true });

/** A decoded message. */
export interface WireMessage {
  readonly topic: string;
  readonly doc: Document;
}

function isNd(v: unknown): v is NdArray {
  return (
    typeof v === "object" &&
    v !== null &&
    ArrayBuffer.isView((v as NdArray).data) &&
    isDType((v as NdArray).dtype)
  );
}

/**
 * Encodes a document as multipart frames. Arrays become raw frames, never copied: do not mutate an array
 * after sending it.
 * @example const frames = encodeDocument("demo/waveforms/event-page", page); await pub.send(frames);
 */
export function encodeDocument(topic: string, doc: Document): Buffer[] {
  const arrays: { dtype: string; shape: readonly number[] }[] = [];
  const frames: Buffer[] = [];
  const strip = (v: unknown): unknown => {
    if (isNd(v)) {
      const b = bytesOf(v.data);
      frames.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      arrays.push({ dtype: v.dtype, shape: v.shape });
      return { [ND_KEY]: arrays.length - 1 };
    }
    if (Array.isArray(v)) return v.map(strip);
    if (typeof v === "object" && v !== null && !ArrayBuffer.isView(v)) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = strip(x);
      return o;
    }
    return v;
  };
  const body = strip(doc);
  const header = encoder.encode({ v: WIRE_VERSION, kind: doc.kind, doc: body, arrays });
  return [Buffer.from(topic), Buffer.from(header.buffer, header.byteOffset, header.byteLength), ...frames];
}

/**
 * Decodes and validates multipart frames. Throws HUTCH_ERR_WIRE naming the problem (missing frames, bad
 * header, unknown version, array frame of the wrong size, document that fails its schema); never crashes.
 */
export function decodeDocument(frames: readonly Uint8Array[]): WireMessage {
  if (frames.length < 2) {
    throw new HutchError(ErrorCode.Wire, `expected at least 2 frames [topic, header], got ${frames.length}`);
  }
  const topic = Buffer.from(frames[0]!.buffer, frames[0]!.byteOffset, frames[0]!.byteLength).toString("utf8");
  let header: unknown;
  try {
    header = decoder.decode(frames[1]!);
  } catch (cause) {
    throw new HutchError(ErrorCode.Wire, `topic '${topic}': header is not valid MessagePack`, { cause });
  }
  if (typeof header !== "object" || header === null) {
    throw new HutchError(ErrorCode.Wire, `topic '${topic}': header is not a map`);
  }
  const h = header as { v?: unknown; doc?: unknown; arrays?: unknown };
  if (h.v !== WIRE_VERSION) {
    throw new HutchError(
      ErrorCode.Wire,
      `topic '${topic}': wire version ${String(h.v)}, expected ${WIRE_VERSION}`,
    );
  }
  const specs = Array.isArray(h.arrays) ? (h.arrays as unknown[]) : [];
  if (specs.length !== frames.length - 2) {
    throw new HutchError(
      ErrorCode.Wire,
      `topic '${topic}': header declares ${specs.length} array frame(s), message has ${frames.length - 2}`,
    );
  }
  const arrays = specs.map((s, i) => {
    const spec = s as { dtype?: unknown; shape?: unknown };
    if (
      !isDType(spec.dtype) ||
      !Array.isArray(spec.shape) ||
      !spec.shape.every((x) => Number.isInteger(x) && x >= 0)
    ) {
      throw new HutchError(
        ErrorCode.Wire,
        `topic '${topic}': arrays[${i}] needs a dtype and a shape of integers`,
      );
    }
    return viewBytes(spec.dtype, spec.shape as number[], frames[i + 2]!);
  });
  const restore = (v: unknown): unknown => {
    if (typeof v === "bigint") return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v;
    if (Array.isArray(v)) return v.map(restore);
    if (typeof v === "object" && v !== null && !ArrayBuffer.isView(v)) {
      const o = v as Record<string, unknown>;
      const ref = o[ND_KEY];
      if (typeof ref === "number" && Object.keys(o).length === 1) {
        const a = arrays[ref];
        if (!a) throw new HutchError(ErrorCode.Wire, `topic '${topic}': array reference ${ref} out of range`);
        return a;
      }
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(o)) out[k] = restore(x);
      return out;
    }
    return v;
  };
  const parsed = DocumentSchema.safeParse(restore(h.doc));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HutchError(
      ErrorCode.Wire,
      `topic '${topic}': invalid document at '${issue.path.join(".") || "(root)"}': ${issue.message}`,
      { cause: parsed.error },
    );
  }
  if (!topic.endsWith(`/${parsed.data.kind}`)) {
    throw new HutchError(
      ErrorCode.Wire,
      `topic '${topic}' does not end with the document kind '${parsed.data.kind}'`,
    );
  }
  return { topic, doc: parsed.data };
}
