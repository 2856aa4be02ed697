// ROIs drawn on an image panel become running ROI sums at once: a roi-sum node's set-roi, or a built-in node.
import { z } from "zod";
import {
  ErrorCode,
  HutchError,
  StreamFactory,
  nd,
  roiMask,
  roiSumFrames,
  type Document,
  type Roi,
  type RoiMask,
  type RunInfo,
} from "../core/index.js";
import { resultOf, type OperatorApi } from "../control/index.js";
import type { InprocBus, Subscription } from "../transport/index.js";
import type { ComponentInfo } from "./control-bodies.js";
import { eventTimes, type DataDoc } from "./field-values.js";
import type { PanelOf, PanelSpec } from "./panel-schema.js";

const Point = z.tuple([z.number().finite(), z.number().finite()]);

/** A ROI request: the image panel it was drawn on, the shape in pixel coordinates, optional gain and threshold. */
export const RoiRequest = z.strictObject({
  panel: z.string(),
  roi: z.discriminatedUnion("kind", [
    z.strictObject({
      kind: z.literal("rect"),
      x0: z.number().finite(),
      y0: z.number().finite(),
      x1: z.number().finite(),
      y1: z.number().finite(),
    }),
    z.strictObject({ kind: z.literal("polygon"), points: z.array(Point).min(3, "a polygon needs 3 points") }),
  ]),
  label: z.string().max(80).optional(),
  gain: z.number().finite().optional(),
  threshold: z.number().finite().optional(),
});
export type RoiRequest = z.infer<typeof RoiRequest>;

/** A running ROI: what was asked, the stream it publishes and the panel that shows it. */
export interface LiveRoi extends RoiRequest {
  readonly id: string;
  readonly stream: string;
  readonly source: { readonly stream: string; readonly field: string };
}

/** A ROI node as the analysis layer may provide it (used instead of the built-in one when given). */
export type RoiNodeFactory = (roi: LiveRoi) => Promise<{ close(): Promise<void> | void }>;

/**
 * The built-in ROI node: subscribes to the image stream (drop-oldest: a slow ROI never holds up the camera),
 * sums the ROI of every frame with the core's roiMask/roiSum, and publishes `sum`, `mean` and `pixels` on the
 * stream `roi-<n>` of the same run, with the ROI in its descriptor's configuration.
 */
class BuiltinRoiNode {
  private readonly sub: Subscription;
  private mask: RoiMask | undefined;
  private factory: StreamFactory | undefined;
  /** Frames that could not be summed (wrong shape, bus closed). */
  errors = 0;

  constructor(
    private readonly roi: LiveRoi,
    private readonly bus: InprocBus,
    private readonly runOf: (uid: string) => RunInfo,
  ) {
    const sub = bus.subscribe({
      prefix: `${bus.instrument}/${roi.source.stream}/`,
      overflow: "drop-oldest",
      capacity: 64,
      name: `roi:${roi.id}`,
    });
    this.sub = sub;
    void (async () => {
      for await (const { doc } of sub) {
        if (doc.kind !== "event" && doc.kind !== "event-page") continue;
        await this.frame(doc).catch(() => this.errors++);
      }
    })();
  }

  private async frame(doc: DataDoc): Promise<void> {
    const a = doc.data[this.roi.source.field];
    if (!a || typeof a !== "object") return;
    const perEvent = doc.kind === "event" ? a.shape : a.shape.slice(1);
    if (perEvent.length !== 2) return;
    const [height, width] = perEvent as [number, number];
    if (!this.mask || this.mask.width !== width || this.mask.height !== height) {
      this.mask = roiMask(this.roi.roi as Roi, width, height);
    }
    const frames = doc.kind === "event" ? 1 : doc.n;
    const t = {
      ...(this.roi.gain === undefined ? {} : { gain: this.roi.gain }),
      ...(this.roi.threshold === undefined ? {} : { threshold: this.roi.threshold }),
    };
    const sums = roiSumFrames(a.data as ArrayLike<number>, frames, this.mask, t);
    const means = sums.map((s) => (this.mask!.pixels ? s / this.mask!.pixels : NaN));
    if (!this.factory || this.factory.run.uid !== doc.runUid) {
      this.factory = new StreamFactory(
        this.runOf(doc.runUid),
        this.roi.stream,
        {
          sum: {
            dtype: "float64",
            shape: [],
            description: `ROI sum of ${this.roi.source.stream}.${this.roi.source.field}`,
          },
          mean: { dtype: "float64", shape: [], description: "ROI sum / pixels" },
          pixels: { dtype: "uint32", shape: [], description: "pixels inside the ROI" },
        },
        { component: "dashboard", configuration: { roi: this.roi } },
      );
      await this.bus.publish(this.factory.descriptor);
    }
    const pixels = new Uint32Array(frames).fill(this.mask.pixels);
    await this.bus.publish(
      this.factory.page(Float64Array.from(eventTimes(doc)), {
        sum: nd(sums),
        mean: nd(means),
        pixels: nd(pixels),
      }),
    );
  }

  close(): void {
    this.sub.close();
  }
}

/** What a live ROI needs besides the bus: the operator API (set-roi calls) and the file's components. */
export interface LiveRoiDeps {
  readonly bus: InprocBus;
  readonly core: OperatorApi;
  readonly components: readonly ComponentInfo[];
  /** The page's panels now (image panels are looked up here). */
  readonly panels: () => readonly PanelSpec[];
  /** Replaces the built-in ROI node (tests, or another analysis implementation). */
  readonly factory?: RoiNodeFactory;
}

interface Running {
  readonly roi: LiveRoi;
  /** The roi-sum component that computes it, or the built-in node. */
  readonly node: string | { close(): Promise<void> | void };
}

/**
 * The ROIs drawn on image panels. An image panel with `roiNode` hands each ROI to that roi-sum component with
 * its `set-roi` action (the sum appears as field `roi<n>` of the component's output stream); otherwise the
 * dashboard runs a built-in ROI node publishing stream `roi<n>`. Either way `create` returns the series panel
 * to add, and `extras()` is what the next run's configuration must record (component overrides, or
 * `dashboard.rois`).
 */
export class LiveRois {
  private readonly rois = new Map<string, Running>();
  private readonly nodeRois = new Map<string, unknown[]>();
  private next = 1;
  private readonly runs = new Map<string, RunInfo>();
  private readonly untap: () => void;

  constructor(private readonly deps: LiveRoiDeps) {
    this.untap = deps.bus.tap(`${deps.bus.instrument}/run/run-start`, ({ doc }: { doc: Document }) => {
      if (doc.kind !== "run-start") return;
      this.runs.set(doc.uid, { uid: doc.uid, run: doc.run, instrument: doc.instrument });
      this.rearm(doc);
    });
  }

  /**
   * A run started without the dashboard's ROIs in its configuration (from the CLI or the operator API: the
   * prepare configured the roi-sum components from the file alone) would lose them while their panels stay: they
   * are handed to their components again. A ROI recorded in the run's configuration is left as it is.
   */
  private rearm(start: Extract<Document, { kind: "run-start" }>): void {
    // run-start's config is `{instrument, run}`; the run part holds the component overrides prepare applied
    const run = (start.config as { run?: { components?: Record<string, { rois?: { name?: string }[] }> } })
      .run;
    const comps = run?.components;
    for (const [id, r] of this.rois) {
      if (typeof r.node !== "string") continue;
      if (comps?.[r.node]?.rois?.some((x) => x.name === id)) continue;
      const { roi, gain, threshold } = r.roi;
      void resultOf(
        this.deps.core.call(r.node, "set-roi", {
          name: id,
          roi,
          ...(gain === undefined ? {} : { gain }),
          ...(threshold === undefined ? {} : { threshold }),
        }),
      ).catch(() => undefined); // a component that refuses it keeps its own ROIs; the panel shows no data
    }
  }

  /** Starts a ROI; throws HUTCH_ERR_VALIDATION naming the problem (unknown panel, not an image panel). */
  async create(req: RoiRequest, wantId?: string): Promise<{ roi: LiveRoi; panel: PanelOf<"series"> }> {
    const image = this.deps.panels().find((p) => p.id === req.panel);
    if (!image || image.type !== "image") {
      const ids = this.deps
        .panels()
        .filter((p) => p.type === "image")
        .map((p) => p.id);
      throw new HutchError(
        ErrorCode.Validation,
        `roi: panel: no image panel '${req.panel}' (image panels: ${ids.join(", ") || "none"})`,
      );
    }
    roiMask(req.roi as Roi, 1, 1); // throws on a degenerate polygon before anything starts
    const node = image.roiNode;
    const taken = new Set([...this.rois.keys(), ...(node ? this.fileRoiNames(node) : [])]);
    let id = wantId && /^roi\d+$/.test(wantId) && !taken.has(wantId) ? wantId : undefined;
    while (!id) {
      const c = `roi${this.next++}`;
      if (!taken.has(c)) id = c;
    }
    const label = req.label ?? id;
    let roi: LiveRoi;
    let series: { stream: string; field: string; label: string };
    if (node) {
      const stream = this.outputOf(node);
      roi = { ...req, id, stream, source: { stream: image.stream, field: image.field } };
      const res = (await resultOf(
        this.deps.core.call(node, "set-roi", {
          name: id,
          roi: req.roi,
          ...(req.gain === undefined ? {} : { gain: req.gain }),
          ...(req.threshold === undefined ? {} : { threshold: req.threshold }),
        }),
      )) as { rois?: unknown[] } | undefined;
      this.nodeRois.set(node, res?.rois ?? []);
      this.rois.set(id, { roi, node });
      series = { stream, field: id, label };
    } else {
      roi = { ...req, id, stream: id, source: { stream: image.stream, field: image.field } };
      const n = this.deps.factory
        ? await this.deps.factory(roi)
        : new BuiltinRoiNode(roi, this.deps.bus, (uid) => this.runOf(uid));
      this.rois.set(id, { roi, node: n });
      series = { stream: id, field: "sum", label: `${label} sum` };
    }
    const panel: PanelOf<"series"> = {
      type: "series",
      id,
      title: `ROI ${label} · ${image.title}`,
      span: 6,
      heightPx: 240,
      series: [series],
      historyS: 300,
      points: 3000,
    };
    return { roi, panel };
  }

  /** The ROIs to record in the next run's configuration, as run-configuration keys. */
  extras(): { dashboard?: { rois: LiveRoi[] }; components?: Record<string, { rois: unknown[] }> } {
    const builtin = [...this.rois.values()].filter((r) => typeof r.node !== "string").map((r) => r.roi);
    const comps = Object.fromEntries([...this.nodeRois].map(([n, rois]) => [n, { rois }]));
    return {
      ...(builtin.length ? { dashboard: { rois: builtin } } : {}),
      ...(this.nodeRois.size ? { components: comps } : {}),
    };
  }

  /** The running ROIs. */
  list(): LiveRoi[] {
    return [...this.rois.values()].map((r) => r.roi);
  }

  /** Stops a ROI (for a roi-sum component: `set-roi` with `roi: null`). False when there is no such ROI. */
  async remove(id: string): Promise<boolean> {
    const r = this.rois.get(id);
    if (!r) return false;
    this.rois.delete(id);
    if (typeof r.node === "string") {
      const res = (await resultOf(this.deps.core.call(r.node, "set-roi", { name: id, roi: null }))) as
        { rois?: unknown[] } | undefined;
      this.nodeRois.set(r.node, res?.rois ?? []);
    } else await r.node.close();
    return true;
  }

  private outputOf(node: string): string {
    const c = this.deps.components.find((x) => x.name === node);
    const out = c?.params.output;
    return typeof out === "string" ? out : node;
  }

  private fileRoiNames(node: string): string[] {
    const rois = this.deps.components.find((x) => x.name === node)?.params.rois;
    return Array.isArray(rois) ? rois.map((r) => String((r as { name?: unknown }).name)) : [];
  }

  private runOf(uid: string): RunInfo {
    return this.runs.get(uid) ?? { uid, run: 0, instrument: this.deps.bus.instrument };
  }

  async close(): Promise<void> {
    this.untap();
    for (const r of this.rois.values()) if (typeof r.node !== "string") await r.node.close();
    this.rois.clear();
  }
}
