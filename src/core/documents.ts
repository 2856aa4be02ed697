// The documents: the only interface between acquisition and consumers. One zod schema each; types derive from them.
import { z } from "zod";
import { DTYPES, isDType, shapeSize, type NdArray } from "./ndarray.js";
import { RUN_STATES } from "./states.js";

/** Unix time in seconds (float64), as in the Bluesky event model. */
const Time = z.number().nonnegative().describe("unix time in seconds");
const Uid = z.string().min(1).describe("unique id (UUID)");
const Name = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.', '-' only")
  .describe("name used in topics");

/** A dtype name (numpy spelling, little-endian). */
export const DTypeSchema = z.enum(DTYPES);

/** An n-dimensional typed array; on the wire it is a raw frame referenced by index (see docs/wire.md). */
export const NdArraySchema = z
  .custom<NdArray>(
    (v) => {
      if (typeof v !== "object" || v === null) return false;
      const a = v as Partial<NdArray>;
      return (
        isDType(a.dtype) &&
        Array.isArray(a.shape) &&
        a.shape.every((s) => Number.isInteger(s) && s >= 0) &&
        ArrayBuffer.isView(a.data) &&
        (a.data as { length: number }).length === shapeSize(a.shape)
      );
    },
    { message: "expected an array {dtype, shape, data: TypedArray} whose data length matches its shape" },
  )
  .meta({
    id: "NdArray",
    description: "typed array: {dtype, shape, data}; raw little-endian frame on the wire",
  });

/** A scalar value of an event field. */
export const ScalarSchema = z.union([z.number(), z.bigint(), z.string(), z.boolean()]);

/** What one field of a stream holds: dtype, per-event shape ([] for scalars), units, source. */
export const FieldSpecSchema = z.object({
  dtype: z.union([DTypeSchema, z.literal("string"), z.literal("bool")]),
  shape: z.array(z.number().int().nonnegative()).readonly().describe("per-event shape; [] for a scalar"),
  units: z.string().optional(),
  source: z.string().optional().describe("where the value comes from (device, channel, address)"),
  description: z.string().optional(),
});

/** Opens a run: number, instrument, plan and the full configuration. */
export const RunStartSchema = z.object({
  kind: z.literal("run-start"),
  uid: Uid,
  run: z.number().int().nonnegative().describe("run number, persisted across restarts"),
  instrument: Name,
  plan: z.string(),
  time: Time,
  config: z.record(z.string(), z.unknown()).describe("the full configuration the run was prepared with"),
  hutchVersion: z.string(),
  replay: z
    .object({ of: z.string(), file: z.string(), run: z.number().int().optional() })
    .optional()
    .describe("set when the run replays a stored one"),
});

/** Declares a stream of a run and its fields. */
export const DescriptorSchema = z.object({
  kind: z.literal("descriptor"),
  uid: Uid,
  runUid: Uid,
  stream: Name,
  time: Time,
  fields: z.record(z.string(), FieldSpecSchema),
  component: z.string().optional(),
  configuration: z.record(z.string(), z.unknown()).optional(),
});

/** One event of a stream: a sequence number (from 1), a time, one value per field. */
export const EventSchema = z.object({
  kind: z.literal("event"),
  descriptor: Uid,
  runUid: Uid,
  stream: Name,
  seq: z.number().int().positive(),
  time: Time,
  data: z.record(z.string(), z.union([ScalarSchema, NdArraySchema])),
});

/** A columnar batch of `n` consecutive events: seq..seq+n-1, times and one array per field (first axis n). */
export const EventPageSchema = z
  .object({
    kind: z.literal("event-page"),
    descriptor: Uid,
    runUid: Uid,
    stream: Name,
    seq: z.number().int().positive().describe("sequence number of the first event"),
    n: z.number().int().nonnegative(),
    time: NdArraySchema.describe("float64[n] unix seconds"),
    data: z.record(z.string(), NdArraySchema),
  })
  .superRefine((p, ctx) => {
    if (p.time.dtype !== "float64" || p.time.data.length !== p.n) {
      ctx.addIssue({ code: "custom", path: ["time"], message: `expected float64[${p.n}]` });
    }
    for (const [k, a] of Object.entries(p.data)) {
      if (a.shape[0] !== p.n) {
        ctx.addIssue({
          code: "custom",
          path: ["data", k],
          message: `first axis is ${a.shape[0]}, expected n=${p.n}`,
        });
      }
    }
  });

/** Exit status of a run. */
export const ExitStatusSchema = z.enum(["success", "abort", "fail"]);

/** Closes a run: exit status, reason and counts of events per stream. */
export const RunStopSchema = z.object({
  kind: z.literal("run-stop"),
  uid: Uid,
  runUid: Uid,
  run: z.number().int().nonnegative(),
  time: Time,
  exitStatus: ExitStatusSchema,
  reason: z.string(),
  counts: z.record(z.string(), z.number().int().nonnegative()).describe("events per stream"),
});

/** Log levels, lowest first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** A log line from a component. */
export const LogSchema = z.object({
  kind: z.literal("log"),
  time: Time,
  level: z.enum(LOG_LEVELS),
  component: z.string(),
  message: z.string(),
  fields: z.record(z.string(), z.unknown()).optional(),
});

/** A snapshot of a component's counters and gauges. */
export const MetricSchema = z.object({
  kind: z.literal("metric"),
  time: Time,
  component: z.string(),
  values: z.record(z.string(), z.number()),
});

/** A state change of a component, or of the whole system (`component: "system"`). */
export const StateSchema = z.object({
  kind: z.literal("state"),
  time: Time,
  component: z.string(),
  state: z.enum(RUN_STATES),
  run: z.number().int().optional(),
  reason: z.string().optional(),
});

/** An alarm raised or cleared by a rule, a watchdog or a component. */
export const AlarmSchema = z.object({
  kind: z.literal("alarm"),
  time: Time,
  id: z.string().describe("stable id: raising and clearing refer to the same alarm"),
  source: z.string(),
  severity: z.enum(["info", "warning", "error"]),
  message: z.string(),
  active: z.boolean(),
});

/** A quality verdict on a field: value, healthy range, ok or not. */
export const QualitySchema = z.object({
  kind: z.literal("quality"),
  time: Time,
  source: z.string(),
  field: z.string(),
  value: z.number().nullable(),
  low: z.number().optional(),
  high: z.number().optional(),
  ok: z.boolean().nullable().describe("null when there is no data"),
});

/** Every document, discriminated by `kind`. */
export const DocumentSchema = z.discriminatedUnion("kind", [
  RunStartSchema,
  DescriptorSchema,
  EventSchema,
  EventPageSchema,
  RunStopSchema,
  LogSchema,
  MetricSchema,
  StateSchema,
  AlarmSchema,
  QualitySchema,
]);

export type FieldSpec = z.infer<typeof FieldSpecSchema>;
export type RunStart = z.infer<typeof RunStartSchema>;
export type Descriptor = z.infer<typeof DescriptorSchema>;
export type Event = z.infer<typeof EventSchema>;
export type EventPage = z.infer<typeof EventPageSchema>;
export type ExitStatus = z.infer<typeof ExitStatusSchema>;
export type RunStop = z.infer<typeof RunStopSchema>;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type Log = z.infer<typeof LogSchema>;
export type Metric = z.infer<typeof MetricSchema>;
export type StateDoc = z.infer<typeof StateSchema>;
export type Alarm = z.infer<typeof AlarmSchema>;
export type Quality = z.infer<typeof QualitySchema>;
/** Any document. */
export type Document = z.infer<typeof DocumentSchema>;
/** The `kind` of a document. */
export type DocumentKind = Document["kind"];
/** The kinds, in a fixed order. */
export const DOCUMENT_KINDS = DocumentSchema.options.map((o) => o.shape.kind.value) as DocumentKind[];

/** Schemas by kind, for JSON Schema export and per-kind validation. */
export const SCHEMAS = {
  "run-start": RunStartSchema,
  descriptor: DescriptorSchema,
  event: EventSchema,
  "event-page": EventPageSchema,
  "run-stop": RunStopSchema,
  log: LogSchema,
  metric: MetricSchema,
  state: StateSchema,
  alarm: AlarmSchema,
  quality: QualitySchema,
} as const;

/** The stream part of a document's topic: the stream for run data, `run` for run-start/stop, else the component. */
export function streamOf(doc: Document): string {
  switch (doc.kind) {
    case "descriptor":
    case "event":
    case "event-page":
      return doc.stream;
    case "run-start":
    case "run-stop":
      return "run";
    case "alarm":
    case "quality":
      return doc.source;
    default:
      return doc.component;
  }
}

/** The topic of a document: `<instrument>/<stream>/<kind>` (prefix-subscribable). */
export function topicOf(instrument: string, doc: Document): string {
  return `${instrument}/${streamOf(doc)}/${doc.kind}`;
}
