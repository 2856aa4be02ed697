// The dashboard panels an instrument file declares (`panels:`): one zod schema per panel type; the page's types derive from it.
import { z } from "zod";

const Name = z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.', '-' only");
const Range = z
  .tuple([z.number(), z.number()])
  .refine(([lo, hi]) => hi > lo, "expected [low, high] with high > low");

/** Fields every panel has: an id (default: its type and index), a title, its width and height on the page. */
const Common = {
  /** Stable id, used in URLs and WebSocket frames; default `<type>-<index>`. */
  id: Name.optional(),
  title: z.string().optional(),
  /** Width in twelfths of the page (3 = quarter, 6 = half, 12 = full width). */
  span: z.number().int().min(2).max(12).optional(),
  /** Height of the plot area in CSS pixels (fixed, so the page never jumps). */
  heightPx: z.number().int().min(80).max(2000).optional(),
  /**
   * Quality flag of the panel: it turns red while a `quality` document for `stream`/`field` says not ok.
   * With `low`/`high`, the server itself checks the latest value of `field` (a stand-in for an analysis
   * quality node) and publishes the quality document and an alarm.
   */
  quality: z
    .strictObject({
      field: z.string(),
      /** Source of the quality documents to follow; default the panel's stream. */
      source: z.string().optional(),
      low: z.number().optional(),
      high: z.number().optional(),
    })
    .optional(),
};

/** Run control: state, run, elapsed, the commands, and prepare with a form generated from the params schemas. */
export const RunControlPanel = z.strictObject({ type: z.literal("run-control"), ...Common });
/** Components: state, heartbeat age, counters, last error. */
export const ComponentsPanel = z.strictObject({ type: z.literal("components"), ...Common });
/** Event rate per stream (events/s, counted by the server at every document: nothing sampled). */
export const RatePanel = z.strictObject({
  type: z.literal("rate"),
  ...Common,
  /** Streams to show; default every event stream seen. */
  streams: z.array(Name).optional(),
  historyS: z.number().int().min(10).max(3600).default(120),
  logY: z.boolean().default(false),
});
/** Scalar fields over time (an analysis node's output, a counter, a ROI sum). */
export const SeriesPanel = z.strictObject({
  type: z.literal("series"),
  ...Common,
  series: z
    .array(z.strictObject({ stream: Name, field: z.string(), label: z.string().optional() }))
    .min(1, "a series panel needs at least one series"),
  historyS: z.number().int().min(10).max(86_400).default(300),
  /** Points kept per series. */
  points: z.number().int().min(10).max(100_000).default(3000),
});
/**
 * A histogram of `field`. A scalar field is filled by the server (bins over `range`); an array field whose
 * per-event shape is [bins] is taken as counts from an analysis node (edges from its `edges` field or `range`).
 */
export const HistogramPanel = z.strictObject({
  type: z.literal("histogram"),
  ...Common,
  stream: Name,
  field: z.string(),
  bins: z.number().int().min(1).max(100_000).default(100),
  range: Range.optional(),
  logY: z.boolean().default(false),
  /** A fit node's stream: its curve (`x`, `y` arrays) or Gaussian parameters are drawn over the histogram. */
  fit: z.strictObject({ stream: Name }).optional(),
});
/** Colour maps the image panels offer. */
export const COLORMAPS = ["viridis", "magma", "inferno", "gray"] as const;
/** An image field (2-D per event): colour map, linear/log, zoom/pan, pixel readout, ROI drawing. */
export const ImagePanel = z.strictObject({
  type: z.literal("image"),
  ...Common,
  stream: Name,
  field: z.string(),
  colormap: z.enum(COLORMAPS).default("viridis"),
  scale: z.enum(["lin", "log"]).default("lin"),
  /** Let the operator draw ROIs that become live ROI sums, each with its own series panel. */
  roi: z.boolean().default(true),
  /**
   * The `roi-sum` component that takes drawn ROIs through its `set-roi` action (its input must be this
   * stream); without one the dashboard sums drawn ROIs itself.
   */
  roiNode: Name.optional(),
});
/** A camera of modules x pixels laid out as on the detector (e.g. 32 modules of 8x8 for CHEC-S). */
export const CameraMapPanel = z.strictObject({
  type: z.literal("camera-map"),
  ...Common,
  stream: Name,
  field: z.string(),
  modules: z.number().int().min(1).max(4096),
  /** Pixels of a module as [columns, rows]. */
  modulePixels: z.tuple([z.number().int().min(1), z.number().int().min(1)]).default([8, 8]),
  /** Module positions as [column, row] on the module grid; default: 32 modules as CHEC-S (6 x 6 without corners), else a square-ish grid. */
  positions: z.array(z.tuple([z.number().int().min(0), z.number().int().min(0)])).optional(),
  colormap: z.enum(COLORMAPS).default("viridis"),
  units: z.string().optional(),
});
/** y versus x of the same stream, the last `points` events. */
export const ScatterPanel = z.strictObject({
  type: z.literal("scatter"),
  ...Common,
  stream: Name,
  x: z.string(),
  y: z.string(),
  points: z.number().int().min(10).max(200_000).default(2000),
});
/**
 * y versus binned x with error bars (error of the mean). Scalar `x`/`y` are binned by the server; an analysis
 * profile node's stream (array fields `centres`, `mean`, `sem`) is shown as it is.
 */
export const ProfilePanel = z.strictObject({
  type: z.literal("profile"),
  ...Common,
  stream: Name,
  x: z.string(),
  y: z.string(),
  bins: z.number().int().min(1).max(10_000).default(40),
  range: Range.optional(),
});
/**
 * Scan points as a grid of cells coloured against a healthy range: green inside, red outside, yellow without
 * data. Events carry the cell index (`cell`), the value (`value`) and optionally a histogram array (`hist`);
 * clicking a cell shows its histogram over the reference stream's one for the same cell.
 */
export const ScanGridPanel = z.strictObject({
  type: z.literal("scan-grid"),
  ...Common,
  stream: Name,
  cell: z.string().default("cell"),
  value: z.string().default("value"),
  hist: z.string().optional(),
  /** Edges of the cell histograms, as [low, high]. */
  histRange: Range.optional(),
  reference: z.strictObject({ stream: Name }).optional(),
  /** An array field of the same events with the fitted counts per bin (e.g. `curve`), drawn over the cell histogram. */
  fit: z.strictObject({ field: z.string() }).optional(),
  healthy: Range,
  /** Cell labels in order (index = `cell`), laid out row by row over `columns`. */
  cells: z.array(z.string()).min(1),
  columns: z.number().int().min(1).max(100),
  units: z.string().optional(),
});
/**
 * The newest rows of a stream as a table, newest first. Each event (or each event of a page) is a row of its
 * scalar `fields`; an event whose fields are 1-D arrays (e.g. `larpix-monitor`'s last packets) is a whole table,
 * one row per element, the first `count` of them when that field is given.
 */
export const TablePanel = z.strictObject({
  type: z.literal("table"),
  ...Common,
  stream: Name,
  fields: z.array(z.string()).min(1, "a table panel needs at least one field"),
  /** Rows shown (the newest). */
  rows: z.number().int().min(1).max(1000).default(100),
  /** A scalar field of array events: how many leading elements are rows (the rest is padding). */
  count: z.string().optional(),
});
/** Log lines with a level filter. */
export const LogPanel = z.strictObject({
  type: z.literal("logs"),
  ...Common,
  level: z.enum(["debug", "info", "warn", "error"]).default("info"),
  lines: z.number().int().min(10).max(2000).default(300),
});
/** Alarms (active first) and the latest quality verdicts. */
export const AlarmsPanel = z.strictObject({ type: z.literal("alarms"), ...Common });
/** Transfers and jobs with progress: events with `id`, `label`, `state`, `done`, `total` on `stream`. */
export const JobsPanel = z.strictObject({ type: z.literal("jobs"), ...Common, stream: Name.default("jobs") });

/** Any panel, discriminated by `type`. */
export const PanelSchema = z.discriminatedUnion("type", [
  RunControlPanel,
  ComponentsPanel,
  RatePanel,
  SeriesPanel,
  HistogramPanel,
  ImagePanel,
  CameraMapPanel,
  ScatterPanel,
  ProfilePanel,
  ScanGridPanel,
  TablePanel,
  LogPanel,
  AlarmsPanel,
  JobsPanel,
]);

/** The `panels:` section of the instrument file. */
export const PanelsSection = z.array(PanelSchema).default([]);

/** A panel as written in the file (after defaults). */
export type PanelInput = z.infer<typeof PanelSchema>;
/** A panel after `resolvePanels`: id, title, span and height are always set. */
export type PanelSpec = PanelInput & { id: string; title: string; span: number; heightPx: number };
/** The panel type names. */
export type PanelType = PanelSpec["type"];
/** A panel of one type. */
export type PanelOf<T extends PanelType> = Extract<PanelSpec, { type: T }>;

const DEFAULT_SPAN: Record<PanelType, number> = {
  "run-control": 4,
  components: 8,
  rate: 6,
  series: 6,
  histogram: 6,
  image: 6,
  "camera-map": 6,
  scatter: 6,
  profile: 6,
  "scan-grid": 6,
  table: 6,
  logs: 8,
  alarms: 4,
  jobs: 6,
};

const DEFAULT_HEIGHT: Partial<Record<PanelType, number>> = {
  "run-control": 260,
  components: 260,
  image: 300,
  "camera-map": 300,
};

const DEFAULT_TITLE = (p: PanelInput): string => {
  switch (p.type) {
    case "run-control":
      return "Run control";
    case "components":
      return "Components";
    case "rate":
      return "Event rate";
    case "series":
      return p.series.map((s) => `${s.stream}.${s.field}`).join(", ");
    case "histogram":
    case "image":
    case "camera-map":
      return `${p.stream}.${p.field}`;
    case "scatter":
    case "profile":
      return `${p.stream}: ${p.y} vs ${p.x}`;
    case "scan-grid":
      return `${p.stream}: ${p.value}`;
    case "table":
      return `${p.stream}: last ${p.rows}`;
    case "logs":
      return "Log";
    case "alarms":
      return "Alarms and quality";
    case "jobs":
      return "Transfers and jobs";
  }
};

/** The default page when the file declares no panels. */
export const DEFAULT_PANELS: readonly PanelInput[] = [
  { type: "run-control" },
  { type: "components" },
  { type: "rate", historyS: 120, logY: false },
  { type: "alarms" },
  { type: "logs", level: "info", lines: 300 },
];

/**
 * Validates the `panels:` section and fills ids, titles, spans and heights. Throws the zod error naming the
 * path (e.g. `[2].bins`); duplicate ids are an error too.
 * @example resolvePanels([{ type: "histogram", stream: "waveforms", field: "peak", range: [0, 2000] }]);
 */
export function resolvePanels(raw: unknown): PanelSpec[] {
  const parsed = PanelsSection.parse(raw ?? []);
  const input = parsed.length ? parsed : PanelsSection.parse(DEFAULT_PANELS);
  const seen = new Set<string>();
  return input.map((p, i) => {
    const id = p.id ?? `${p.type}-${i}`;
    if (seen.has(id)) {
      throw new z.ZodError([
        { code: "custom", path: [i, "id"], message: `panel id '${id}' is used twice`, input: id },
      ]);
    }
    seen.add(id);
    const heightPx = p.heightPx ?? DEFAULT_HEIGHT[p.type] ?? 240;
    return {
      ...p,
      id,
      title: p.title ?? DEFAULT_TITLE(p),
      span: p.span ?? DEFAULT_SPAN[p.type],
      heightPx,
    } as PanelSpec;
  });
}

/** Event streams a panel reads (for bus subscriptions). */
export function panelStreams(p: PanelSpec): string[] {
  switch (p.type) {
    case "series":
      return [...new Set(p.series.map((s) => s.stream))];
    case "histogram":
      return p.fit ? [p.stream, p.fit.stream] : [p.stream];
    case "scan-grid":
      return p.reference ? [p.stream, p.reference.stream] : [p.stream];
    case "image":
    case "camera-map":
    case "scatter":
    case "profile":
    case "table":
    case "jobs":
      return [p.stream];
    default:
      return [];
  }
}
