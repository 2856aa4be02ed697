// Alarms and quality verdicts: the latest of each alarm id and of each (source, field), for every page.
import type { Alarm, Quality } from "../../core/index.js";
import { BaseFeed, type FeedBody } from "./feed.js";

const MAX_CLEARED = 50;

/** The id of the global alarms frame every browser receives (panels turn red from it). */
export const ALARMS_FEED = "$alarms";

/** Active alarms, recently cleared ones, and the newest quality verdict per source and field. */
export class AlarmFeed extends BaseFeed {
  readonly streams: readonly string[] = [];
  readonly needsAll = false;
  private readonly alarms = new Map<string, Alarm & { since: number; count: number }>();
  private readonly quality = new Map<string, Quality>();

  constructor() {
    super(ALARMS_FEED);
  }

  onAlarm(doc: Alarm): void {
    const old = this.alarms.get(doc.id);
    const since = old && old.active === doc.active ? old.since : doc.time;
    const count = (old?.count ?? 0) + (doc.active && !old?.active ? 1 : 0);
    this.alarms.delete(doc.id);
    this.alarms.set(doc.id, { ...doc, since, count });
    const cleared = [...this.alarms.values()].filter((a) => !a.active);
    for (const a of cleared.slice(0, Math.max(0, cleared.length - MAX_CLEARED))) this.alarms.delete(a.id);
    this.touch(doc.time);
  }

  onQuality(doc: Quality): void {
    const key = `${doc.source}\u0000${doc.field}`;
    const old = this.quality.get(key);
    this.quality.set(key, doc);
    // A verdict that did not change is news only once a second (values move, colours do not).
    if (!old || old.ok !== doc.ok || doc.time - old.time >= 1) this.touch(doc.time);
  }

  /** Active alarms (for /metrics and tests). */
  active(): Alarm[] {
    return [...this.alarms.values()].filter((a) => a.active);
  }

  snapshot(): FeedBody | undefined {
    const alarms = [...this.alarms.values()].reverse();
    alarms.sort((a, b) => Number(b.active) - Number(a.active));
    return {
      kind: "alarms",
      body: {
        alarms,
        quality: [...this.quality.values()].map((q) => ({
          source: q.source,
          field: q.field,
          value: q.value,
          ok: q.ok,
          t: q.time,
          ...(q.low === undefined ? {} : { low: q.low }),
          ...(q.high === undefined ? {} : { high: q.high }),
        })),
      },
    };
  }
}
