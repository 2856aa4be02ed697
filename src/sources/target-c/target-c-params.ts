// Params, stream fields and rejection reasons of the TARGET-C source (instrument file `params:`).
import { z } from "zod";
import { TARGET_C_MAX_READOUTS, TARGET_C_PIXELS } from "../../codecs/index.js";
import type { FieldSpec } from "../../core/index.js";
import { maxPendingPagesParam } from "../../component/index.js";
import { ModuleMapSchema } from "./module-map.js";

/** Params of the TARGET-C source (instrument file `params:`). */
export const TargetCSourceParamsSchema = z.object({
  host: z.string().default("0.0.0.0").describe("address to bind"),
  port: z.number().int().min(0).max(65535).default(17000).describe("UDP port (SSDAQ used 2009, later 17000)"),
  recvBufferBytes: z
    .number()
    .int()
    .min(65536)
    .default(8 * 1024 * 1024),
  modules: z.number().int().min(1).max(1000).default(32),
  moduleMap: ModuleMapSchema,
  maxClockSkewMs: z
    .number()
    .positive()
    .nullable()
    .default(3_600_000)
    .describe(
      "readouts whose unix-ns timestamps are further than this from the host clock are impossible; null: only 0 is",
    ),
  readoutPeriodNs: z.number().positive().optional().describe("for gap counting; default: learned per module"),
  stream: z.string().default("readouts"),
  batchReadouts: z.number().int().min(TARGET_C_MAX_READOUTS).default(2048).describe("rows per page at most"),
  minPageIntervalMs: z
    .number()
    .min(0)
    .default(0)
    .describe(
      "while datagrams keep coming, publish at most one page per this interval: fewer, larger pages (less CPU at moderate rates) for up to this much more latency; 0: a page every event-loop turn",
    ),
  receiver: z
    .enum(["auto", "native", "dgram"])
    .default("auto")
    .describe(
      "how datagrams are read: native (the addon, recvmmsg, one call per batch), dgram (Node's), auto: native when built",
    ),
  maxPendingPages: maxPendingPagesParam,
});
/** Params of the TARGET-C source. */
export type TargetCSourceParams = z.infer<typeof TargetCSourceParamsSchema>;

/** The fields of a readout page: one row per readout. */
export const TARGET_C_READOUT_FIELDS = {
  module: { dtype: "uint16", shape: [], description: "module index from the source address" },
  timestamp: { dtype: "uint64", shape: [], units: "ns" },
  aux_timestamp: { dtype: "uint64", shape: [], units: "ns" },
  data: { dtype: "float32", shape: [TARGET_C_PIXELS], units: "mV" },
} as const satisfies Record<string, FieldSpec>;

/** Reasons a datagram or readout is rejected; counted as `rejected_<reason>`. */
export const TARGET_C_REJECTIONS = {
  badLength: "datagrams_bad_length",
  unknownSource: "datagrams_unknown_source",
  badTimestamp: "readouts_bad_timestamp",
} as const;
