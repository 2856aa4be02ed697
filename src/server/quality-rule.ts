// A panel's healthy range checked by the server: a stand-in for an analysis quality node (quality doc + alarm).
import { nowSec, type Alarm, type Document, type Quality } from "../core/index.js";
import { lastTime, scalarColumn, type DataDoc } from "./field-values.js";
import { BaseFeed, type FeedBody } from "./feeds/feed.js";
import type { PanelSpec } from "./panel-schema.js";

/** Verdicts are republished at most this often while they do not change (ms). */
const REPEAT_MS = 1000;

/**
 * Checks the latest value of `quality.field` of the panel's stream against [low, high] and publishes `quality`
 * documents (source = the stream) and an alarm that is raised when the value leaves the range and cleared
 * when it returns. It never sends frames itself: the alarms feed shows what it publishes.
 */
export class QualityRule extends BaseFeed {
  readonly streams: readonly string[];
  readonly needsAll = false;
  private lastOk: boolean | undefined;
  private lastSentMs = 0;
  private readonly source: string;
  private readonly field: string;
  private readonly low: number;
  private readonly high: number;

  constructor(
    panel: PanelSpec & { quality: NonNullable<PanelSpec["quality"]> },
    stream: string,
    private readonly publish: (doc: Document) => void,
  ) {
    super(`$rule:${panel.id}`);
    this.source = panel.quality.source ?? stream;
    this.streams = [this.source];
    this.field = panel.quality.field;
    this.low = panel.quality.low ?? -Infinity;
    this.high = panel.quality.high ?? Infinity;
  }

  onData(doc: DataDoc): void {
    const v = scalarColumn(doc, this.field);
    if (!v || v.length === 0) return;
    const value = v[v.length - 1]!;
    const ok = value >= this.low && value <= this.high;
    const now = Date.now();
    if (ok === this.lastOk && now - this.lastSentMs < REPEAT_MS) return;
    this.lastSentMs = now;
    const time = lastTime(doc) || nowSec();
    const q: Quality = {
      kind: "quality",
      time,
      source: this.source,
      field: this.field,
      value,
      ok,
      ...(Number.isFinite(this.low) ? { low: this.low } : {}),
      ...(Number.isFinite(this.high) ? { high: this.high } : {}),
    };
    this.publish(q);
    if (ok !== this.lastOk && (this.lastOk !== undefined || !ok)) {
      const range = `[${Number.isFinite(this.low) ? this.low : "-inf"}, ${Number.isFinite(this.high) ? this.high : "inf"}]`;
      const alarm: Alarm = {
        kind: "alarm",
        time,
        id: `quality:${this.source}.${this.field}`,
        source: this.source,
        severity: "warning",
        message: ok
          ? `${this.source}.${this.field} back in range ${range}: ${fmt(value)}`
          : `${this.source}.${this.field} = ${fmt(value)} outside the healthy range ${range}`,
        active: !ok,
      };
      this.publish(alarm);
    }
    this.lastOk = ok;
  }

  snapshot(): FeedBody | undefined {
    return undefined;
  }
}

const fmt = (v: number): string =>
  Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(4);
