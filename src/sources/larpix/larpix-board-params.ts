// Params of the `larpix-board` source component (instrument file `params:`), validated once, with defaults.
import { z } from "zod";
import { maxPendingPagesParam } from "../../component/index.js";
import { BoardSpecSchema } from "./board-link.js";
import { ChipSpecSchema } from "./larpix-controller.js";

const StreamName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/, "a stream name: letters, digits, '_', '.', '-' only");

/** Params of the LArPix board source. */
export const LarpixBoardParamsSchema = z.strictObject({
  boards: z
    .array(BoardSpecSchema)
    .min(1, "name at least one board")
    .default([{ name: "board", address: "tcp://127.0.0.1", commandPort: 5555, dataPort: 5556, ioGroup: 1 }])
    .refine((b) => new Set(b.map((x) => x.name)).size === b.length, "board names must be distinct")
    .refine((b) => new Set(b.map((x) => x.ioGroup)).size === b.length, "each board needs its own ioGroup"),
  chips: z
    .array(ChipSpecSchema)
    .optional()
    .describe(
      "chip keys io_group-io_channel-chip_id (or {key, config}); default 246, 245, 252, 243 on io channel 1 of each board",
    ),
  boardFile: z
    .string()
    .optional()
    .describe("a board file (chips and configurations) loaded at start; overrides chips"),
  pixelLayout: z
    .string()
    .optional()
    .describe(
      "pixel layout file (YAML/JSON, larpix-geometry style); default one pixel per chip channel in order",
    ),
  clockKHz: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(10_000)
    .describe("CLK2X sent with SETFREQ at prepare"),
  resetOnPrepare: z
    .boolean()
    .default(true)
    .describe("SYRESET the chips at prepare (restarts their timestamps)"),
  writeConfigOnPrepare: z.boolean().default(true).describe("write every chip's configuration at prepare"),
  requestTimeoutMs: z
    .number()
    .int()
    .min(10)
    .max(60_000)
    .default(1000)
    .describe("a board command without reply fails"),
  readTimeoutMs: z.number().int().min(10).max(60_000).default(2000).describe("config read-back deadline"),
  pingIntervalMs: z.number().int().min(10).max(60_000).default(500).describe("a quiet board is pinged"),
  lostAfterMs: z
    .number()
    .int()
    .min(50)
    .max(600_000)
    .default(3000)
    .describe("a board silent this long is lost"),
  stream: StreamName.default("packets"),
  messagesStream: StreamName.default("messages"),
  batchPackets: z.number().int().min(64).max(10_000_000).default(16_384).describe("packets per page at most"),
  maxPendingPages: maxPendingPagesParam,
  routineModules: z
    .array(z.string())
    .default([])
    .describe("modules whose exported routines are added (plug-ins)"),
});
/** Params after defaults. */
export type LarpixBoardParams = z.output<typeof LarpixBoardParamsSchema>;

/** The chips of the params: given, or the simulator's four chips on io channel 1 of every board. */
export function chipsOf(p: LarpixBoardParams): z.infer<typeof ChipSpecSchema>[] {
  if (p.chips) return p.chips;
  return p.boards.flatMap((b) => [246, 245, 252, 243].map((id) => `${b.ioGroup}-1-${id}`));
}
