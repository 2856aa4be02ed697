// Params every analysis stage shares (input, output, overflow, publish rate) and event cuts ("beam status > 0").
import { z } from "zod";
import type { InputBatch } from "./input-batch.js";

const StreamName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/, "a stream name: letters, digits, '_', '.', '-' only");

/** Params common to every analysis stage. */
export const StageParamsSchema = z.object({
  input: StreamName.describe("the stream to read: documents under the topic prefix <instrument>/<input>/"),
  output: StreamName.optional().describe("the stream this stage publishes (default: the component's name)"),
  overflow: z
    .enum(["latest-only", "drop-oldest"], {
      message: "overflow must be 'latest-only' or 'drop-oldest' (monitors never block the data path)",
    })
    .default("drop-oldest")
    .describe("what the input queue does when the stage falls behind; skipped documents are counted"),
  capacity: z
    .number()
    .int()
    .min(1, "capacity must be at least 1 document")
    .max(1_000_000)
    .default(256)
    .describe("input queue length in documents"),
  publishIntervalMs: z
    .number()
    .int()
    .min(0, "publishIntervalMs must be >= 0 (0 publishes after every input document)")
    .default(1000)
    .describe("how often results are published; 0 = after every input document"),
});
/** Params common to every analysis stage, after defaults. */
export type StageParams = z.infer<typeof StageParamsSchema>;

/** One cut on a scalar field: an event passes when every given bound holds. */
export const CutSchema = z
  .object({
    field: z.string().min(1, "a cut needs a field"),
    gt: z.number().optional(),
    ge: z.number().optional(),
    lt: z.number().optional(),
    le: z.number().optional(),
  })
  .refine((c) => c.gt !== undefined || c.ge !== undefined || c.lt !== undefined || c.le !== undefined, {
    message: "a cut needs at least one of gt, ge, lt, le",
  });
/** A cut on a scalar field. */
export type Cut = z.infer<typeof CutSchema>;

/**
 * Fills `mask` (length >= batch.n) with 1 for events passing every cut, 0 otherwise, and returns how many pass.
 * A cut on a field the batch lacks rejects every event (the field is reported missing by the batch).
 */
export function applyCuts(batch: InputBatch, cuts: readonly Cut[], mask: Uint8Array): number {
  mask.fill(1, 0, batch.n);
  for (const c of cuts) {
    const v = batch.scalar(c.field);
    if (!v) {
      mask.fill(0, 0, batch.n);
      return 0;
    }
    for (let i = 0; i < batch.n; i++) {
      const x = v[i]!;
      // NaN fails every comparison, so it never passes a cut.
      if (
        (c.gt !== undefined && !(x > c.gt)) ||
        (c.ge !== undefined && !(x >= c.ge)) ||
        (c.lt !== undefined && !(x < c.lt)) ||
        (c.le !== undefined && !(x <= c.le))
      ) {
        mask[i] = 0;
      }
    }
  }
  let pass = 0;
  for (let i = 0; i < batch.n; i++) pass += mask[i]!;
  return pass;
}

/** A mask buffer that grows to the largest batch seen (no allocation per batch). */
export class MaskBuffer {
  private buf = new Uint8Array(0);
  /** A mask of at least `n` entries. */
  get(n: number): Uint8Array {
    if (this.buf.length < n) this.buf = new Uint8Array(Math.max(n, 2 * this.buf.length));
    return this.buf;
  }
}
