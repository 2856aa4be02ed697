// Histogram panels: fills a histogram from a scalar field, or shows an analysis node's counts; fit curve overlay.
import { AutoHistogram, Histogram, binEdges } from "../../core/index.js";
import type { PanelOf } from "../panel-schema.js";
import { eventArray, lastTime, scalarAt, scalarColumn, type DataDoc } from "../field-values.js";
import { BaseFeed, type FeedBody } from "./feed.js";
import { fitOverlay, type FitOverlay } from "./fit-overlay.js";

/**
 * A scalar field is histogrammed here (fixed bins over `range`, or auto-ranging without one; reset at each
 * run start); a field whose per-event value is an array is taken as the counts of an analysis histogram node.
 */
export class HistogramFeed extends BaseFeed {
  readonly streams: readonly string[];
  readonly needsAll = true;
  private filled: Histogram | AutoHistogram | undefined;
  private given: { counts: Float64Array; edges: Float64Array; stats: Record<string, number> } | undefined;
  private fitDoc: DataDoc | undefined;

  constructor(private readonly panel: PanelOf<"histogram">) {
    super(panel.id);
    this.streams = panel.fit ? [panel.stream, panel.fit.stream] : [panel.stream];
  }

  onRunStart(): void {
    this.filled = undefined;
    this.given = undefined;
    this.fitDoc = undefined;
    this.touch();
  }

  onData(doc: DataDoc): void {
    if (this.panel.fit && doc.stream === this.panel.fit.stream) {
      this.fitDoc = doc;
      this.touch(lastTime(doc));
    }
    if (doc.stream !== this.panel.stream) return;
    const values = scalarColumn(doc, this.panel.field);
    if (values) {
      this.filled ??= this.makeHistogram();
      this.filled.fill(values);
      this.touch(lastTime(doc));
      return;
    }
    const counts = eventArray(doc, this.panel.field);
    if (!counts || counts.shape.length !== 1) return;
    const bins = counts.shape[0]!;
    const edgesNd = eventArray(doc, "edges");
    const [lo, hi] = this.panel.range ?? [0, bins];
    const stats: Record<string, number> = {};
    for (const k of ["entries", "underflow", "overflow", "mean", "rms"]) {
      const v = scalarAt(doc, k, doc.kind === "event" ? 0 : doc.n - 1);
      if (typeof v === "number") stats[k] = v;
    }
    this.given = {
      stats,
      counts: Float64Array.from(counts.data as ArrayLike<number>),
      edges:
        edgesNd && edgesNd.data.length === bins + 1
          ? Float64Array.from(edgesNd.data as ArrayLike<number>)
          : binEdges({ bins, lo, hi }),
    };
    this.touch(lastTime(doc));
  }

  private makeHistogram(): Histogram | AutoHistogram {
    const { bins, range } = this.panel;
    return range
      ? new Histogram({ bins, lo: range[0], hi: range[1] })
      : new AutoHistogram({ bins: bins % 2 ? bins + 1 : bins });
  }

  snapshot(): FeedBody | undefined {
    let edges: Float64Array;
    let counts: Float64Array;
    let stats: Record<string, number> = {};
    const h = this.filled;
    if (h && (!(h instanceof AutoHistogram) || h.hasRange)) {
      edges = binEdges(h);
      counts = h.counts.slice();
      stats =
        h instanceof Histogram
          ? { entries: h.entries, underflow: h.underflow, overflow: h.overflow, mean: h.mean, rms: h.rms }
          : { entries: h.entries };
    } else if (this.given) {
      ({ edges, counts } = this.given);
      let n = 0;
      for (const c of counts) n += c;
      stats = { entries: n, ...this.given.stats };
    } else if (this.version > 0) {
      return { kind: "hist", body: { empty: true } };
    } else return undefined;
    const fit: FitOverlay | undefined = this.fitDoc
      ? fitOverlay(this.fitDoc, edges[0]!, edges[edges.length - 1]!)
      : undefined;
    return { kind: "hist", body: { edges, counts, stats, ...(fit ? { fit } : {}) } };
  }
}
