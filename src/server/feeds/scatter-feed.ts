// Scatter panels: the last `points` (x, y) pairs of two scalar fields of one stream; cleared at run start.
import type { PanelOf } from "../panel-schema.js";
import { lastTime, scalarColumn, type DataDoc } from "../field-values.js";
import { BaseFeed, type FeedBody } from "./feed.js";
import { PointRing } from "./ring.js";

/** Keeps the newest (x, y) pairs. */
export class ScatterFeed extends BaseFeed {
  readonly streams: readonly string[];
  readonly needsAll = true;
  private readonly ring: PointRing;

  constructor(private readonly panel: PanelOf<"scatter">) {
    super(panel.id);
    this.streams = [panel.stream];
    this.ring = new PointRing(panel.points);
  }

  onRunStart(): void {
    this.ring.clear();
    this.touch();
  }

  onData(doc: DataDoc): void {
    const x = scalarColumn(doc, this.panel.x);
    const y = scalarColumn(doc, this.panel.y);
    if (!x || !y) return;
    for (let i = 0; i < x.length; i++) this.ring.push(x[i]!, y[i]!);
    this.touch(lastTime(doc));
  }

  snapshot(): FeedBody | undefined {
    if (this.version === 0) return undefined;
    return { kind: "scatter", body: this.ring.ordered() };
  }
}
