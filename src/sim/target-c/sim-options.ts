// Options of the TARGET-C simulator (`hutch sim target-c`): one schema, defaults once, units in names.
import { z } from "zod";
import { TARGET_C_MAX_READOUTS } from "../../codecs/index.js";

const Probability = z.number().min(0).max(1).default(0);
const Ipv4 = z.string().regex(/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/, "an IPv4 address like 127.0.0.101");

/** Faults the simulator injects; probabilities are per datagram unless stated. */
export const TargetCSimFaultsSchema = z.object({
  dropModules: z.array(z.number().int().min(0)).default([]).describe("modules that never send"),
  delayModules: z
    .array(z.object({ module: z.number().int().min(0), delayMs: z.number().nonnegative() }))
    .default([])
    .describe("modules whose datagrams leave this much later"),
  duplicate: Probability.describe("a datagram is sent twice"),
  reorder: Probability.describe("a datagram is held and sent after the module's next one"),
  corrupt: Probability.describe(
    "the first readout's timestamp is overwritten with an impossible value (2^64-1)",
  ),
  garbage: Probability.describe(
    "an extra datagram of random bytes and a length that is not a multiple of 144",
  ),
  unknownSource: Probability.describe("per round: a valid-looking datagram from strangerAddress"),
});
/** Faults the simulator injects. */
export type TargetCSimFaults = z.infer<typeof TargetCSimFaultsSchema>;

/** Options of the TARGET-C simulator. */
export const TargetCSimOptionsSchema = z
  .object({
    to: z
      .string()
      .regex(/^[^:]+:\d{1,5}$/, "HOST:PORT, e.g. 127.0.0.1:17000")
      .describe("where the source listens"),
    modules: z.number().int().min(1).max(154).default(32),
    rateHz: z.number().positive().default(10).describe("readouts per second per module"),
    readoutsPerDatagram: z.number().int().min(1).max(TARGET_C_MAX_READOUTS).default(10),
    sourceBase: Ipv4.default("127.0.0.101").describe("module i sends from this address + i (last octet)"),
    strangerAddress: Ipv4.default("127.0.0.100").describe("source of unknownSource datagrams (not a module)"),
    seed: z.number().int().default(1),
    startTimeNs: z
      .union([z.bigint(), z.string().regex(/^\d+$/)])
      .optional()
      .describe("timestamp of the first readout (ns); default: the host clock at start"),
    pixels: z
      .enum(["walk", "frozen"])
      .default("walk")
      .describe(
        "walk: slow random walks; frozen: drawn once per module, so sending costs a copy (stress tests)",
      ),
    auxTimestamp: z
      .enum(["readout", "send-monotonic"])
      .default("readout")
      .describe(
        "send-monotonic: aux carries process.hrtime at sending (CLOCK_MONOTONIC ns), to measure latency on one host",
      ),
    jitterNs: z.number().int().nonnegative().default(1000).describe("per-module timestamp spread"),
    rounds: z.number().int().positive().optional().describe("stop after this many datagrams per module"),
    durationMs: z.number().positive().optional().describe("stop after this long"),
    faults: TargetCSimFaultsSchema.default({
      dropModules: [],
      delayModules: [],
      duplicate: 0,
      reorder: 0,
      corrupt: 0,
      garbage: 0,
      unknownSource: 0,
    }),
  })
  .superRefine((o, ctx) => {
    const last = Number(o.sourceBase.split(".")[3]);
    if (last + o.modules - 1 > 254) {
      ctx.addIssue({
        code: "custom",
        path: ["sourceBase"],
        message: `${o.modules} modules from ${o.sourceBase} run past .254; use a lower last octet`,
      });
    }
    for (const m of [...o.faults.dropModules, ...o.faults.delayModules.map((d) => d.module)]) {
      if (m >= o.modules) {
        ctx.addIssue({
          code: "custom",
          path: ["faults"],
          message: `module ${m} is outside 0..${o.modules - 1}`,
        });
      }
    }
  });
/** Options of the TARGET-C simulator, as given (defaults optional). */
export type TargetCSimInput = z.input<typeof TargetCSimOptionsSchema>;
/** Options of the TARGET-C simulator, with defaults applied. */
export type TargetCSimOptions = z.infer<typeof TargetCSimOptionsSchema>;

/** The address module `m` sends from. */
export function moduleAddress(base: string, m: number): string {
  const parts = base.split(".");
  return `${parts[0]}.${parts[1]}.${parts[2]}.${Number(parts[3]) + m}`;
}
