// The beamline's per-tag message (simulator -> source): point-detector values and the frames of the area detectors.
import { z } from "zod";
import { ErrorCode, HutchError, type NdArray } from "../../core/index.js";
import { packFramed, unpackFramed } from "./framed-message.js";

/** The `kind` of a tag message in its header. */
export const TAG_MESSAGE_KIND = "beamline-tag";

const Num = z.union([z.number(), z.nan()]);
const FrameSchema = z.custom<NdArray>(
  (v) => typeof v === "object" && v !== null && "dtype" in v && "shape" in v && "data" in v,
  { message: "expected an array frame" },
);

/** One area detector in a tag: its frame (status ok) or the error it reports instead. */
export const DetectorReadingSchema = z.object({
  name: z.string().min(1),
  status: z.enum(["ok", "error"]),
  /** Multiply raw pixels by this to get the calibrated value (MPCCD `mp_absgain`). */
  gain: Num,
  message: z.string().optional().describe("why the detector has no frame (status error)"),
  frame: FrameSchema.optional().describe("float32 [height, width] (status ok)"),
});
/** One area detector in a tag. */
export type DetectorReading = z.infer<typeof DetectorReadingSchema>;

/**
 * Everything the beamline knows of one tag (one X-ray pulse): the tag number, its time, the point detectors
 * (I0, beam status, delay motor position...) and the area detectors that read out. A detector that is not in
 * `detectors` did not read out for this tag.
 */
export const TagMessageSchema = z.object({
  tag: z.number().int().nonnegative(),
  /** Unix seconds. */
  time: z.number().nonnegative(),
  points: z.record(z.string(), Num),
  detectors: z.array(DetectorReadingSchema),
});
/** One tag of the beamline. */
export type TagMessage = z.infer<typeof TagMessageSchema>;

/**
 * The message's frames: `[topic, header, ...frames]`, the frames sent without copying (never reuse a frame's
 * memory after sending it).
 * @example await push.send(encodeTagMessage("sacla", { tag, time, points: { i0: 0.5 }, detectors: [] }));
 */
export function encodeTagMessage(instrument: string, msg: TagMessage): Buffer[] {
  return packFramed(`${instrument}/tag`, TAG_MESSAGE_KIND, msg);
}

/**
 * Decodes and checks a tag message: each `ok` detector must carry a 2-D float32 frame. Throws HUTCH_ERR_WIRE
 * naming the problem.
 */
export function decodeTagMessage(frames: readonly Uint8Array[]): TagMessage {
  const m = unpackFramed(frames);
  if (m.kind !== TAG_MESSAGE_KIND) {
    throw new HutchError(
      ErrorCode.Wire,
      `topic '${m.topic}': kind '${m.kind}', expected '${TAG_MESSAGE_KIND}'`,
    );
  }
  const p = TagMessageSchema.safeParse(m.body);
  if (!p.success) {
    const i = p.error.issues[0]!;
    throw new HutchError(ErrorCode.Wire, `tag message: ${i.path.join(".") || "(root)"}: ${i.message}`);
  }
  for (const d of p.data.detectors) {
    if (d.status !== "ok") continue;
    const f = d.frame;
    if (!f || f.dtype !== "float32" || f.shape.length !== 2) {
      throw new HutchError(
        ErrorCode.Wire,
        `tag ${p.data.tag}: detector '${d.name}' has status ok but no float32 [height, width] frame` +
          (f ? ` (got ${f.dtype} [${f.shape.join(",")}])` : ""),
      );
    }
  }
  return p.data;
}
