// Params of the beamline source: where tags arrive, the point and area detectors expected, the delay calibration.
import { z } from "zod";

const Name = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "a field name: a letter or '_', then letters, digits, '_'");
const StreamName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/, "a stream name: letters, digits, '_', '.', '-' only");

/** One expected area detector: its name in the tag messages, its stream on the bus and its frame size. */
export const BeamlineDetectorSchema = z.strictObject({
  name: Name,
  /** Stream of its frames (default: the detector's name). */
  stream: StreamName.optional(),
  width: z.number().int().min(1).max(8192).default(1024),
  height: z.number().int().min(1).max(8192).default(512),
});
/** One expected area detector. */
export type BeamlineDetector = z.infer<typeof BeamlineDetectorSchema>;

/** Params of the `beamline-source` component. */
export const BeamlineSourceParamsSchema = z.strictObject({
  listen: z
    .string()
    .regex(/^tcp:\/\/[^:]+:\d+$/, "expected a ZeroMQ address like tcp://127.0.0.1:5580")
    .default("tcp://127.0.0.1:5580")
    .describe("PULL socket bound here; the beamline (or `hutch sim beamline`) pushes one message per tag"),
  pointStream: StreamName.default("point").describe("stream of the point detectors, one event per tag"),
  points: z
    .array(Name)
    .default(["i0", "beam_status", "delay_motor"])
    .describe("point detectors expected in every tag (NaN and an alarm when one is absent)"),
  detectors: z
    .array(BeamlineDetectorSchema)
    .default([{ name: "mpccd1", width: 1024, height: 512 }])
    .refine((d) => new Set(d.map((x) => x.name)).size === d.length, "detector names must be unique"),
  delay: z
    .strictObject({
      motor: Name.default("delay_motor"),
      scale: z.number().default(6.666e-3).describe("ps per motor pulse"),
      t0Ps: z.number().default(0).describe("time zero in ps"),
    })
    .nullable()
    .default({ motor: "delay_motor", scale: 6.666e-3, t0Ps: 0 })
    .describe("publishes `delay` = position x scale - t0 (ps); null: no delay field"),
  carry: z
    .boolean()
    .default(true)
    .describe("detector streams also carry tag, point detectors and delay (for ROI sums, cuts, binning)"),
  missingAfterTags: z
    .number()
    .int()
    .min(1)
    .default(3)
    .describe("a detector without a frame in this many consecutive tags raises its alarm"),
  silenceMs: z
    .number()
    .int()
    .min(50)
    .default(2000)
    .describe("no tag at all for this long during a run raises an alarm (cleared when tags resume)"),
  tagStep: z.number().int().min(1).default(2).describe("tag increment between pulses (counts missed tags)"),
  receiveHighWaterMark: z
    .number()
    .int()
    .min(1)
    .default(64)
    .describe("tags ZeroMQ may hold while the source is busy; past it the sender drops"),
});
/** Params of the `beamline-source` component. */
export type BeamlineSourceParams = z.infer<typeof BeamlineSourceParamsSchema>;

/** The stream of a detector. */
export const detectorStream = (d: BeamlineDetector): string => d.stream ?? d.name;
