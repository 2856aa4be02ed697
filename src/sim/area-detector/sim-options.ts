// Options of the area-detector simulator (`hutch sim area-detector`) and its trigger generator; defaults once.
import { z } from "zod";

const HostPort = z.string().regex(/^[^:]+:\d{1,5}$/, "HOST:PORT, e.g. 127.0.0.1:5700");

/** Driver faults the simulator injects. */
export const AreaDetectorSimFaultsSchema = z.strictObject({
  dropTriggers: z
    .array(z.number().int().positive())
    .default([])
    .describe("trigger numbers whose frame the driver loses"),
  delayFrames: z
    .array(z.strictObject({ trigger: z.number().int().positive(), ms: z.number().nonnegative() }))
    .default([])
    .describe("frames delivered this much later than their readout"),
  disconnectAfterFrames: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("drop the link after this many frames"),
  garbleAfterFrames: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("send bytes that are not a message after this many frames"),
});
/** Faults of the simulator. */
export type AreaDetectorSimFaults = z.output<typeof AreaDetectorSimFaultsSchema>;

/** Options of the area-detector simulator. */
export const AreaDetectorSimOptionsSchema = z.strictObject({
  listen: HostPort.default("127.0.0.1:5700").describe("frame server the source connects to (port 0: any)"),
  triggerListen: HostPort.default("127.0.0.1:5701").describe("UDP trigger input (port 0: any)"),
  width: z.number().int().min(8).max(4096).default(2880).describe("unbinned width (Varex 4343: 2880)"),
  height: z.number().int().min(8).max(4096).default(2880),
  readoutMs: z.number().nonnegative().default(66.7).describe("readout time; triggers during it are missed"),
  idleAfterMs: z.number().positive().default(20_000).describe("free-run after this long without a trigger"),
  idleRateHz: z.number().positive().max(1000).default(15).describe("free-run frame rate"),
  darkLevel: z.number().min(0).max(60_000).default(300).describe("mean dark level, ADU, at gain 1"),
  noiseAdu: z.number().nonnegative().default(4).describe("read noise sigma, ADU"),
  spotAdu: z.number().nonnegative().default(3000).describe("beam spot peak on shot frames, ADU at gain 1"),
  seed: z.number().int().default(1),
  maxBufferedFrames: z
    .number()
    .int()
    .min(1)
    .default(8)
    .describe("frames queued on the link before the driver drops new ones"),
  faults: AreaDetectorSimFaultsSchema.default({ dropTriggers: [], delayFrames: [] }),
});
/** Options as given. */
export type AreaDetectorSimInput = z.input<typeof AreaDetectorSimOptionsSchema>;
/** Options with defaults. */
export type AreaDetectorSimOptions = z.output<typeof AreaDetectorSimOptionsSchema>;

/** Options of the trigger generator. */
export const TriggerGeneratorOptionsSchema = z.strictObject({
  to: HostPort.describe("the detector's trigger input"),
  rateHz: z.number().positive().max(1000).default(1),
  shots: z
    .array(z.number().int().positive())
    .default([])
    .describe("trigger numbers with beam (a spot on the frame)"),
  shotEvery: z.number().int().positive().optional().describe("also every Nth trigger has beam"),
  count: z.number().int().positive().optional().describe("stop after this many triggers"),
});
/** Trigger generator options as given. */
export type TriggerGeneratorInput = z.input<typeof TriggerGeneratorOptionsSchema>;
