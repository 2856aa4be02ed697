// Beamline messages that are not documents, framed as docs/wire.md says: [topic, MessagePack header, ...raw arrays].
import { decode, encode } from "@msgpack/msgpack";
import { ErrorCode, HutchError, isDType, viewBytes, type NdArray } from "../../core/index.js";

/** The header version; the same `v` as the document wire, so `listen.py`'s `decode()` reads these messages too. */
export const FRAMED_VERSION = 1;

/** A decoded framed message: its topic, its `kind` and its body with every `{"$nd": i}` replaced by an array. */
export interface FramedMessage {
  readonly topic: string;
  readonly kind: string;
  readonly body: unknown;
}

const isNd = (v: object): v is NdArray =>
  "dtype" in v && "shape" in v && "data" in v && ArrayBuffer.isView((v as NdArray).data);

/**
 * Frames `body` as `[topic, header, ...arrays]`: every NdArray inside becomes `{"$nd": i}` in the MessagePack
 * header `{v, kind, doc, arrays: [{dtype, shape}]}` and its bytes a frame of its own, not copied (do not mutate
 * an array after sending it).
 * @example await push.send(packFramed("sacla/tag", "beamline-tag", { tag: 1, frame: nd(img, [512, 1024]) }));
 */
export function packFramed(topic: string, kind: string, body: unknown): Buffer[] {
  const frames: Buffer[] = [Buffer.from(topic)];
  const arrays: { dtype: string; shape: readonly number[] }[] = [];
  const blobs: Buffer[] = [];
  const walk = (v: unknown): unknown => {
    if (typeof v !== "object" || v === null) return v;
    if (Array.isArray(v)) return v.map(walk);
    if (isNd(v)) {
      const d = v.data;
      blobs.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
      arrays.push({ dtype: v.dtype, shape: v.shape });
      return { $nd: arrays.length - 1 };
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = walk(x);
    return out;
  };
  const doc = walk(body);
  const header = encode({ v: FRAMED_VERSION, kind, doc, arrays }, { ignoreUndefined: true });
  frames.push(Buffer.from(header.buffer, header.byteOffset, header.byteLength), ...blobs);
  return frames;
}

const wire = (message: string): HutchError => new HutchError(ErrorCode.Wire, message);

/**
 * Reads `[topic, header, ...arrays]`; arrays view the frames' memory (copied only when misaligned). Throws
 * HUTCH_ERR_WIRE naming the problem (frame count, header, version, array size), never anything else.
 */
export function unpackFramed(frames: readonly Uint8Array[]): FramedMessage {
  if (frames.length < 2) throw wire(`expected at least 2 frames [topic, header], got ${frames.length}`);
  const f0 = frames[0]!;
  const topic = Buffer.from(f0.buffer, f0.byteOffset, f0.byteLength).toString("utf8");
  let header: unknown;
  try {
    header = decode(frames[1]!);
  } catch (cause) {
    throw wire(`topic '${topic}': header is not valid MessagePack: ${(cause as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw wire(`topic '${topic}': header is not a map`);
  }
  const h = header as { v?: unknown; kind?: unknown; doc?: unknown; arrays?: unknown };
  if (h.v !== FRAMED_VERSION)
    throw wire(`topic '${topic}': version ${String(h.v)}, expected ${FRAMED_VERSION}`);
  if (typeof h.kind !== "string") throw wire(`topic '${topic}': header has no kind`);
  const specs = Array.isArray(h.arrays) ? (h.arrays as unknown[]) : [];
  if (specs.length !== frames.length - 2) {
    throw wire(
      `topic '${topic}': header declares ${specs.length} array(s), message has ${frames.length - 2}`,
    );
  }
  const arrays = specs.map((s, i): NdArray => {
    const spec = s as { dtype?: unknown; shape?: unknown } | null;
    const shape = spec?.shape;
    if (
      !spec ||
      !isDType(spec.dtype) ||
      !Array.isArray(shape) ||
      !shape.every((x) => Number.isInteger(x) && (x as number) >= 0)
    ) {
      throw wire(`topic '${topic}': arrays[${i}] needs a dtype and a shape of integers >= 0`);
    }
    try {
      return viewBytes(spec.dtype, shape as number[], frames[i + 2]!);
    } catch (cause) {
      throw wire(`topic '${topic}': arrays[${i}]: ${(cause as Error).message}`);
    }
  });
  const restore = (v: unknown): unknown => {
    if (typeof v !== "object" || v === null) return v;
    if (Array.isArray(v)) return v.map(restore);
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === "$nd") {
      const a = arrays[o.$nd as number];
      if (!a) throw wire(`topic '${topic}': array reference ${String(o.$nd)} out of range`);
      return a;
    }
    for (const k of keys) o[k] = restore(o[k]);
    return o;
  };
  return { topic, kind: h.kind, body: restore(h.doc) };
}
