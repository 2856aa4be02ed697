// Profile panels: y binned by x with errors of the mean, filled here from scalars or taken from a profile node.
import { Profile } from "../../core/index.js";
import type { PanelOf } from "../panel-schema.js";
import { eventArray, lastTime, scalarColumn, type DataDoc } from "../field-values.js";
import { BaseFeed, type FeedBody } from "./feed.js";

const rangeOf = ([lo, hi]: readonly [number, number]) => ({ lo, hi });

/** Without a configured range: the first batch's extent, widened by 5 % on each side. */
function spanOf(x: ArrayLike<number>): { lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i]! < lo) lo = x[i]!;
    if (x[i]! > hi) hi = x[i]!;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { lo: 0, hi: 1 };
  const pad = hi > lo ? 0.05 * (hi - lo) : 0.5;
  return { lo: lo - pad, hi: hi + pad };
}

type Result = { centres: Float64Array; mean: Float64Array; sem: Float64Array; counts?: Float64Array };

/**
 * Scalar `x`/`y` fields are binned here over `range` (reset at each run start); an analysis profile node's
 * events (array fields `centres`, `mean`, `sem`) are shown as they are.
 */
export class ProfileFeed extends BaseFeed {
  readonly streams: readonly string[];
  readonly needsAll = true;
  private profile: Profile | undefined;
  private given: Result | undefined;

  constructor(private readonly panel: PanelOf<"profile">) {
    super(panel.id);
    this.streams = [panel.stream];
  }

  onRunStart(): void {
    this.profile?.reset();
    this.given = undefined;
    this.touch();
  }

  onData(doc: DataDoc): void {
    const x = scalarColumn(doc, this.panel.x);
    const y = scalarColumn(doc, this.panel.y);
    if (x && y) {
      this.profile ??= new Profile({
        bins: this.panel.bins,
        ...(this.panel.range ? rangeOf(this.panel.range) : spanOf(x)),
      });
      this.profile.fill(x, y);
      this.touch(lastTime(doc));
      return;
    }
    const c = eventArray(doc, "centres");
    const m = eventArray(doc, "mean");
    const e = eventArray(doc, "sem");
    if (!c || !m || !e) return;
    const f = (a: { data: unknown }) => Float64Array.from(a.data as ArrayLike<number>);
    const counts = eventArray(doc, "counts");
    this.given = { centres: f(c), mean: f(m), sem: f(e), ...(counts ? { counts: f(counts) } : {}) };
    this.touch(lastTime(doc));
  }

  snapshot(): FeedBody | undefined {
    if (this.profile) {
      const r = this.profile.result();
      return {
        kind: "profile",
        body: { centres: r.centres, mean: r.mean, sem: r.sem, counts: r.counts },
      };
    }
    if (this.given) return { kind: "profile", body: this.given };
    return this.version ? { kind: "profile", body: { empty: true } } : undefined;
  }
}
