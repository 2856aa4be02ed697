// Scalar fields over time (counters, analysis outputs, live ROI sums): the last points of each series.
import type { PanelOf } from "../panel-schema.js";
import { eventTimes, lastTime, scalarColumn, type DataDoc } from "../field-values.js";
import { BaseFeed, type FeedBody } from "./feed.js";
import { PointRing } from "./ring.js";

/** Keeps (time, value) of every series of a `series` panel over its history window. */
export class SeriesFeed extends BaseFeed {
  readonly streams: readonly string[];
  readonly needsAll = true;
  private readonly rings: PointRing[];

  constructor(private readonly panel: PanelOf<"series">) {
    super(panel.id);
    this.streams = [...new Set(panel.series.map((s) => s.stream))];
    this.rings = panel.series.map(() => new PointRing(panel.points));
  }

  onData(doc: DataDoc): void {
    let changed = false;
    this.panel.series.forEach((s, i) => {
      if (s.stream !== doc.stream) return;
      const v = scalarColumn(doc, s.field);
      if (!v) return;
      const t = eventTimes(doc);
      const ring = this.rings[i]!;
      for (let k = 0; k < v.length; k++) ring.push(t[k]!, v[k]!);
      ring.dropBefore(lastTime(doc) - this.panel.historyS);
      changed = true;
    });
    if (changed) this.touch(lastTime(doc));
  }

  snapshot(): FeedBody | undefined {
    if (this.version === 0) return undefined;
    return {
      kind: "series",
      body: {
        series: this.panel.series.map((s, i) => ({
          label: s.label ?? `${s.stream}.${s.field}`,
          ...this.rings[i]!.ordered(),
        })),
      },
    };
  }
}
