// Event rate per stream, counted at every document by the hub's tap (nothing sampled), one point per second.
import { RateMeter } from "../../core/index.js";
import type { PanelOf } from "../panel-schema.js";
import { BaseFeed, type FeedBody } from "./feed.js";

/** Rates of the panel's streams (or every stream seen) over the last `historyS` complete seconds. */
export class RateFeed extends BaseFeed {
  readonly streams: readonly string[] = [];
  readonly needsAll = false;
  private readonly meters = new Map<string, RateMeter>();
  private lastSec = 0;

  constructor(private readonly panel: PanelOf<"rate">) {
    super(panel.id);
    for (const s of panel.streams ?? []) this.meter(s);
  }

  private meter(stream: string): RateMeter {
    let m = this.meters.get(stream);
    if (!m) {
      m = new RateMeter({ historySec: this.panel.historyS });
      this.meters.set(stream, m);
    }
    return m;
  }

  onCount(stream: string, n: number, tSec: number): void {
    if (this.panel.streams && !this.panel.streams.includes(stream)) return;
    this.meter(stream).add(tSec, n);
  }

  onTick(tSec: number): void {
    const s = Math.floor(tSec);
    if (s !== this.lastSec && this.meters.size) {
      this.lastSec = s;
      this.touch(s);
    }
  }

  snapshot(): FeedBody | undefined {
    if (!this.meters.size || !this.lastSec) return undefined;
    const now = this.lastSec;
    const h = this.panel.historyS;
    const t = new Float64Array(h);
    const start = now - h;
    for (let k = 0; k < h; k++) t[k] = start + k;
    const series = [...this.meters].map(([stream, m]) => ({ stream, rate: m.history(now) }));
    return { kind: "rate", body: { t, series } };
  }
}
