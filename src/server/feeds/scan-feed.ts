// Scan-grid panels: the latest value (and histogram) of every scan cell, and the reference histograms.
import type { PanelOf } from "../panel-schema.js";
import { eventArray, lastTime, scalarAt, type DataDoc } from "../field-values.js";
import { BaseFeed, type FeedBody } from "./feed.js";

/** One cell's histogram and its reference, for the cell view. */
export interface CellDetail {
  readonly cell: number;
  readonly label: string;
  readonly value: number;
  readonly counts?: Float64Array;
  readonly reference?: Float64Array;
  /** The fitted counts per bin (the panel's `fit.field`), drawn over `counts`. */
  readonly fit?: Float64Array;
  readonly range?: readonly [number, number];
}

/**
 * Events carry a cell index and a value (NaN = no data); the grid colours each cell against the healthy range
 * on the page. Cell histograms stay here and are fetched when the operator opens a cell.
 */
export class ScanFeed extends BaseFeed {
  readonly streams: readonly string[];
  readonly needsAll = true;
  private readonly values: Float64Array;
  private readonly hists = new Map<number, Float64Array>();
  private readonly refs = new Map<number, Float64Array>();
  private readonly fits = new Map<number, Float64Array>();

  constructor(private readonly panel: PanelOf<"scan-grid">) {
    super(panel.id);
    this.streams = panel.reference ? [panel.stream, panel.reference.stream] : [panel.stream];
    this.values = new Float64Array(panel.cells.length).fill(NaN);
  }

  onRunStart(): void {
    this.values.fill(NaN);
    this.hists.clear();
    this.fits.clear();
    this.touch();
  }

  onData(doc: DataDoc): void {
    const isRef = this.panel.reference?.stream === doc.stream && doc.stream !== this.panel.stream;
    const n = doc.kind === "event" ? 1 : doc.n;
    for (let i = 0; i < n; i++) {
      const cell = scalarAt(doc, this.panel.cell, i);
      if (typeof cell !== "number" || !Number.isInteger(cell) || cell < 0 || cell >= this.values.length)
        continue;
      const h = this.panel.hist
        ? eventArray(doc, this.panel.hist, doc.kind === "event" ? undefined : i)
        : undefined;
      if (h) (isRef ? this.refs : this.hists).set(cell, Float64Array.from(h.data as ArrayLike<number>));
      const f =
        this.panel.fit && !isRef
          ? eventArray(doc, this.panel.fit.field, doc.kind === "event" ? undefined : i)
          : undefined;
      if (f) this.fits.set(cell, Float64Array.from(f.data as ArrayLike<number>));
      if (!isRef) {
        const v = scalarAt(doc, this.panel.value, i);
        this.values[cell] = typeof v === "number" ? v : NaN;
      }
    }
    this.touch(lastTime(doc));
  }

  /** One cell's detail, or undefined for an index outside the grid. */
  cell(i: number): CellDetail | undefined {
    if (!Number.isInteger(i) || i < 0 || i >= this.values.length) return undefined;
    const counts = this.hists.get(i);
    const reference = this.refs.get(i);
    const fit = this.fits.get(i);
    return {
      cell: i,
      label: this.panel.cells[i]!,
      value: this.values[i]!,
      ...(counts ? { counts } : {}),
      ...(reference ? { reference } : {}),
      ...(fit ? { fit } : {}),
      ...(this.panel.histRange ? { range: this.panel.histRange } : {}),
    };
  }

  snapshot(): FeedBody | undefined {
    const hasHist = new Uint8Array(this.values.length);
    for (const k of this.hists.keys()) hasHist[k] = 1;
    return { kind: "scan", body: { values: this.values.slice(), hasHist } };
  }
}
