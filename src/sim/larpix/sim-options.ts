// Options of the LArPix data-board simulator: ports, chips, rates, timing and injected faults (validated once).
import { z } from "zod";
import { ErrorCode, HutchError } from "../../core/index.js";

/** The chip ids of the simulator's daisy chain by default (the four chips of the original larpix-daq setup). */
export const DEFAULT_SIM_CHIPS = [246, 245, 252, 243] as const;

/** Options of one simulated board. Ports 0 pick free ports (read them from `sim.commandAddress` / `dataAddress`). */
export const LarpixBoardSimOptionsSchema = z.strictObject({
  host: z.string().default("127.0.0.1").describe("address to bind both sockets on"),
  commandPort: z
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(5555)
    .describe("REP socket for SNDWORD, PING_HB, ..."),
  dataPort: z.number().int().min(0).max(65535).default(5556).describe("PUB socket for data messages"),
  ioChannel: z.number().int().min(0).max(255).default(1).describe("daisy chain the chips are on"),
  chips: z
    .array(z.number().int().min(0).max(255))
    .min(1)
    .default([...DEFAULT_SIM_CHIPS])
    .refine((c) => new Set(c).size === c.length, "chip ids must be distinct"),
  rateHz: z
    .number()
    .min(0)
    .max(10_000_000)
    .default(200)
    .describe("self-triggered packets per second (board total)"),
  clockKHz: z.number().int().min(1).default(10_000).describe("CLK2X at start (SETFREQ changes it)"),
  messageIntervalMs: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(10)
    .describe("one data message per interval"),
  timestampIntervalMs: z.number().int().min(0).default(1000).describe("'T' messages; 0 = none"),
  heartbeatIntervalMs: z.number().int().min(0).default(1000).describe("'H' messages; 0 = none"),
  maxWordsPerMessage: z.number().int().min(1).max(1_000_000).default(4096),
  seed: z.number().int().default(1).describe("same seed, same pedestals and packets"),
  signalMeanAdc: z.number().positive().default(150).describe("mean of the exponential signal above pedestal"),
  badParityFraction: z.number().min(0).max(1).default(0).describe("packets sent with the parity bit flipped"),
  garbageFraction: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .describe(
      "chance per data message of an extra garbage message (short, bad version, unknown kind, bad length)",
    ),
  manual: z.boolean().default(false).describe("no self-triggered data on a timer: tests call emit()"),
  record: z.boolean().default(false).describe("keep a copy of every message sent on the data socket"),
});
/** Options as given (defaults optional). */
export type LarpixBoardSimInput = z.input<typeof LarpixBoardSimOptionsSchema>;
/** Options after defaults. */
export type LarpixBoardSimOptions = z.output<typeof LarpixBoardSimOptionsSchema>;

/** Validates simulator options; throws HUTCH_ERR_CONFIG naming the field. */
export function parseSimOptions(input: LarpixBoardSimInput): LarpixBoardSimOptions {
  const r = LarpixBoardSimOptionsSchema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new HutchError(
      ErrorCode.Config,
      `larpix board simulator: ${i.path.join(".") || "options"}: ${i.message}`,
    );
  }
  return r.data;
}
