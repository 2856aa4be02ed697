// The online-access request/reply protocol: a MessagePack request, a framed reply whose arrays are raw frames.
import { decode, encode } from "@msgpack/msgpack";
import { z } from "zod";
import { ErrorCode, HutchError, nd, type NdArray } from "../../core/index.js";
import { packFramed, unpackFramed } from "./framed-message.js";
import type { OnlineStatus } from "./online-access.js";

/** The `kind` of every reply header. */
export const ONLINE_REPLY_KIND = "online-reply";

/**
 * A request (one MessagePack map): `newest` N tags of `names`, the `status`, or the known `names`. `id` comes
 * back in the reply so a client can drop a late answer to a request it gave up on.
 */
export const OnlineRequestSchema = z.discriminatedUnion("op", [
  z.object({
    op: z.literal("newest"),
    id: z.number().int().optional(),
    n: z.number().int().min(0, "n must be >= 0"),
    names: z.array(z.string().min(1)).default([]),
  }),
  z.object({ op: z.literal("status"), id: z.number().int().optional() }),
  z.object({ op: z.literal("names"), id: z.number().int().optional() }),
]);
/** A request. */
export type OnlineRequest = z.input<typeof OnlineRequestSchema>;

/** The newest tags as a reply carries them: `tags` and one array per requested name, all float64[n]. */
export interface NewestResult {
  readonly tags: Float64Array;
  readonly values: Record<string, Float64Array>;
  /** The column each requested name resolved to (`stream.field`). */
  readonly columns: string[];
}

/** A decoded reply. */
export type OnlineReply =
  | {
      readonly id: number | undefined;
      readonly ok: true;
      readonly op: "newest";
      readonly result: NewestResult;
    }
  | {
      readonly id: number | undefined;
      readonly ok: true;
      readonly op: "status";
      readonly result: OnlineStatus;
    }
  | { readonly id: number | undefined; readonly ok: true; readonly op: "names"; readonly result: string[] }
  | {
      readonly id: number | undefined;
      readonly ok: false;
      readonly error: { code: string; message: string };
    };

/** Encodes a request. */
export function encodeRequest(req: OnlineRequest): Buffer {
  const b = encode(req, { ignoreUndefined: true });
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Decodes a request; throws HUTCH_ERR_VALIDATION naming the problem. */
export function decodeRequest(frame: Uint8Array): z.infer<typeof OnlineRequestSchema> {
  let raw: unknown;
  try {
    raw = decode(frame);
  } catch (cause) {
    throw new HutchError(
      ErrorCode.Validation,
      `online request is not MessagePack: ${(cause as Error).message}`,
    );
  }
  const p = OnlineRequestSchema.safeParse(raw);
  if (!p.success) {
    const i = p.error.issues[0]!;
    throw new HutchError(
      ErrorCode.Validation,
      `online request: ${i.path.join(".") || "(root)"}: ${i.message}`,
    );
  }
  return p.data;
}

/** Frames of a reply: `[topic, header, ...arrays]` (Python: `listen.decode(frames)`). */
export function encodeReply(instrument: string, reply: OnlineReply): Buffer[] {
  const topic = `${instrument}/online/reply`;
  if (reply.ok && reply.op === "newest") {
    const values: Record<string, NdArray> = {};
    for (const [k, v] of Object.entries(reply.result.values)) values[k] = nd(v);
    return packFramed(topic, ONLINE_REPLY_KIND, {
      ...reply,
      result: { tags: nd(reply.result.tags), values, columns: reply.result.columns },
    });
  }
  return packFramed(topic, ONLINE_REPLY_KIND, reply);
}

/** Decodes a reply's frames; arrays come back as Float64Arrays. Throws HUTCH_ERR_WIRE when malformed. */
export function decodeReply(frames: readonly Uint8Array[]): OnlineReply {
  const m = unpackFramed(frames);
  if (m.kind !== ONLINE_REPLY_KIND || typeof m.body !== "object" || m.body === null) {
    throw new HutchError(ErrorCode.Wire, `topic '${m.topic}': not an online-access reply (kind '${m.kind}')`);
  }
  const r = m.body as Record<string, unknown>;
  if (r.ok === true && r.op === "newest") {
    const res = r.result as { tags: NdArray; values: Record<string, NdArray>; columns: string[] };
    const f64 = (a: NdArray) =>
      a.data instanceof Float64Array ? a.data : Float64Array.from(a.data as ArrayLike<number>);
    const values: Record<string, Float64Array> = {};
    for (const [k, v] of Object.entries(res.values)) values[k] = f64(v);
    return { ...(r as object), result: { tags: f64(res.tags), values, columns: res.columns } } as OnlineReply;
  }
  return r as unknown as OnlineReply;
}
