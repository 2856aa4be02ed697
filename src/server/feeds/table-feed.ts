// Table panels: the newest rows of a stream (scalar fields per event, or one array event as a whole table).
import type { PanelOf } from "../panel-schema.js";
import { eventArray, eventCount, lastTime, scalarAt, scalarColumn, type DataDoc } from "../field-values.js";
import { BaseFeed, type FeedBody } from "./feed.js";

/** One cell of a table: a number, a string, or null when the event lacks the field. */
export type TableCell = number | string | null;

/** A field's value for the event at `index`: a string or number (a one-element array counts as its value). */
function cellAt(doc: DataDoc, field: string, index: number): TableCell {
  const v = scalarAt(doc, field, index);
  if (v !== undefined) return v;
  return doc.kind === "event" ? (scalarColumn(doc, field)?.[0] ?? null) : null;
}

/**
 * Keeps the newest `rows` rows of the panel's `fields`, newest first. Events with scalar fields (and pages) add
 * rows; an event whose fields are 1-D arrays replaces the table with one row per element (oldest first in the
 * arrays, as `larpix-monitor` publishes them), limited to the `count` field's value when the panel names one.
 */
export class TableFeed extends BaseFeed {
  readonly streams: readonly string[];
  readonly needsAll = true;
  /** Oldest first; the snapshot reverses. */
  private rows: TableCell[][] = [];

  constructor(private readonly panel: PanelOf<"table">) {
    super(panel.id);
    this.streams = [panel.stream];
  }

  onRunStart(): void {
    this.rows = [];
    this.touch();
  }

  onData(doc: DataDoc): void {
    const { fields } = this.panel;
    const arrays = doc.kind === "event" ? fields.map((f) => eventArray(doc, f)) : [];
    if (arrays.some((a) => a && a.shape.length === 1)) {
      const len = Math.max(...arrays.map((a) => (a && a.shape.length === 1 ? a.data.length : 0)));
      const c = this.panel.count ? scalarAt(doc, this.panel.count) : undefined;
      const n = typeof c === "number" && c >= 0 ? Math.min(len, Math.floor(c)) : len;
      const rows: TableCell[][] = [];
      for (let i = Math.max(0, n - this.panel.rows); i < n; i++) {
        rows.push(
          arrays.map((a, k) => {
            if (a && a.shape.length === 1) return i < a.data.length ? Number(a.data[i]) : null;
            return scalarAt(doc, fields[k]!) ?? null;
          }),
        );
      }
      this.rows = rows;
    } else {
      const n = eventCount(doc);
      for (let i = Math.max(0, n - this.panel.rows); i < n; i++) {
        this.rows.push(fields.map((f) => cellAt(doc, f, i)));
      }
      if (this.rows.length > this.panel.rows) this.rows.splice(0, this.rows.length - this.panel.rows);
    }
    this.touch(lastTime(doc));
  }

  snapshot(): FeedBody | undefined {
    if (this.version === 0) return undefined;
    return { kind: "table", body: { columns: this.panel.fields, rows: this.rows.slice().reverse() } };
  }
}
