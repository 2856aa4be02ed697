// Options of the beamline simulator: tag rate, point detectors, area detectors with gain, delay scan and faults.
import { z } from "zod";

const Name = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "a detector name: a letter or '_', then letters, digits, '_'");

/** Where a detector's photons land: a powder-like `ring` or a Bragg-like `spot`. */
export const PATTERNS = ["ring", "spot"] as const;

/** One simulated MPCCD-like area detector. */
export const SimDetectorSchema = z.strictObject({
  name: Name,
  width: z.number().int().min(8).max(4096).default(1024),
  height: z.number().int().min(8).max(4096).default(512),
  /** Calibrated value = raw x gain (sent with every frame, as the detector's absolute gain). */
  gain: z.number().positive().default(1),
  /** Read noise (calibrated units, sigma). */
  noise: z.number().nonnegative().default(40),
  /** Calibrated value of one photon (well above the 1000/3.65 threshold, as an X-ray photon is). */
  photonValue: z.number().positive().default(1000),
  /** Mean photons per shot at I0 = 1 and no pump effect. */
  photons: z.number().nonnegative().default(4000),
  pattern: z.enum(PATTERNS).default("ring"),
  /** Relative change of the signal after time zero (the pump-probe effect this detector sees). */
  effect: z.number().min(-1).default(0.8),
});
/** One simulated area detector. */
export type SimDetector = z.infer<typeof SimDetectorSchema>;

/** A detector fault: from `afterS` seconds into each run, `absent` (no entry) or `error` (entry, no frame). */
export const SimFaultSchema = z.strictObject({
  detector: Name,
  afterS: z.number().nonnegative().default(0),
  mode: z.enum(["absent", "error"]).default("absent"),
});
/** A detector fault. */
export type SimFault = z.infer<typeof SimFaultSchema>;

/** Options of the beamline simulator. */
export const BeamlineSimOptionsSchema = z.strictObject({
  /** The beamline source's PULL address. */
  to: z.string().regex(/^tcp:\/\/[^:]+:\d+$/, "expected a ZeroMQ address like tcp://127.0.0.1:5580"),
  instrument: z.string().default("sacla"),
  rateHz: z.number().positive().max(1000).default(30),
  /** Tag number of the first pulse, and the step between pulses (SACLA at 30 Hz: 2). */
  firstTag: z.number().int().min(0).max(0xfff_ffff).default(100_000_000),
  tagStep: z.number().int().min(1).default(2),
  detectors: z
    .array(SimDetectorSchema)
    .max(8)
    .default(
      [{ name: "mpccd1" }, { name: "mpccd2", gain: 1.2, pattern: "spot", effect: -0.5 }].map((d) =>
        SimDetectorSchema.parse(d),
      ),
    )
    .refine((d) => new Set(d.map((x) => x.name)).size === d.length, "detector names must be unique"),
  /** The delay each tag gets, uniform over this range in ps (a jittered scan). */
  scanPs: z
    .tuple([z.number(), z.number()])
    .refine(([a, b]) => b > a, "scanPs must be [low, high] with low < high")
    .default([-2.5, 3.5]),
  /** Motor calibration: position = (delay + t0Ps) / scale (the source computes delay = position x scale - t0). */
  delayScale: z.number().positive().default(6.666e-3),
  t0Ps: z.number().default(0),
  /** Fraction of tags without beam (beam status 0, I0 near 0). */
  beamOffFraction: z.number().min(0).max(1).default(0.05),
  i0Mean: z.number().positive().default(0.5),
  seed: z.number().int().default(1),
  faults: z.array(SimFaultSchema).default([]),
  /** Stop after this many tags (CLI). */
  tags: z.number().int().positive().optional(),
  /** Tags ZeroMQ may queue towards a slow or absent source before the simulator drops (counted). */
  sendHighWaterMark: z.number().int().min(1).default(64),
});
/** Options of the beamline simulator, as given. */
export type BeamlineSimInput = z.input<typeof BeamlineSimOptionsSchema>;
/** Options of the beamline simulator, with defaults. */
export type BeamlineSimOptions = z.infer<typeof BeamlineSimOptionsSchema>;
