// Image and camera-map panels: the newest frame of an array field (latest-only: a fast camera never queues).
import type { NdArray } from "../../core/index.js";
import type { PanelOf } from "../panel-schema.js";
import { eventArray, lastTime, type DataDoc } from "../field-values.js";
import { BaseFeed, type FeedBody } from "./feed.js";

/** Keeps the last event's array of `field` (a view of the document, not a copy) and its range. */
export class LatestArrayFeed extends BaseFeed {
  readonly streams: readonly string[];
  readonly needsAll = false;
  private frame: NdArray | undefined;
  private seq = 0;
  frames = 0;

  constructor(private readonly panel: PanelOf<"image"> | PanelOf<"camera-map">) {
    super(panel.id);
    this.streams = [panel.stream];
  }

  onData(doc: DataDoc): void {
    const a = eventArray(doc, this.panel.field);
    if (!a) return;
    this.frame = a;
    this.seq = doc.seq + (doc.kind === "event" ? 0 : doc.n - 1);
    this.frames++;
    this.touch(lastTime(doc));
  }

  /** The newest frame (for ROI previews and tests). */
  get latest(): NdArray | undefined {
    return this.frame;
  }

  snapshot(): FeedBody | undefined {
    const f = this.frame;
    if (!f) return undefined;
    let min = Infinity;
    let max = -Infinity;
    const d = f.data as ArrayLike<number>;
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const shape = this.panel.type === "image" && f.shape.length === 1 ? [1, f.shape[0]!] : f.shape;
    return {
      kind: this.panel.type === "image" ? "image" : "camera",
      body: { frame: { dtype: f.dtype, shape, data: f.data }, seq: this.seq, min, max },
    };
  }
}
