// Table panels (rows from events, pages and array snapshots) and the scan grid's fit curve per cell.
import { describe, expect, it } from "vitest";
import { nd, type Event, type EventPage } from "../core/index.js";
import { ScanFeed } from "./feeds/scan-feed.js";
import { TableFeed } from "./feeds/table-feed.js";
import { feedFor } from "./feeds/feed-for.js";
import { panelStreams, resolvePanels, type PanelOf } from "./panel-schema.js";

const event = (stream: string, data: Event["data"], seq = 1, time = 1000 + seq): Event => ({
  kind: "event",
  descriptor: "d",
  runUid: "r",
  stream,
  seq,
  time,
  data,
});

const page = (stream: string, n: number, data: EventPage["data"]): EventPage => ({
  kind: "event-page",
  descriptor: "d",
  runUid: "r",
  stream,
  seq: 1,
  n,
  time: nd(Float64Array.from({ length: n }, (_, i) => 1000 + i)),
  data,
});

const table = (extra: Record<string, unknown>) =>
  resolvePanels([{ type: "table", stream: "s", fields: ["a", "b"], ...extra }])[0] as PanelOf<"table">;

describe("table panels", () => {
  it("resolve with defaults, a title and their stream, and get a TableFeed", () => {
    const p = table({});
    expect(p).toMatchObject({ id: "table-0", rows: 100, span: 6, title: "s: last 100" });
    expect(panelStreams(p)).toEqual(["s"]);
    expect(feedFor(p)[0]).toBeInstanceOf(TableFeed);
    expect(() => resolvePanels([{ type: "table", stream: "s", fields: [] }])).toThrow(/at least one field/);
  });

  it("keeps the newest rows of scalar events and pages, newest first", () => {
    const f = new TableFeed(table({ rows: 3 }));
    expect(f.snapshot()).toBeUndefined();
    f.onData(event("s", { a: "hello", b: 1n }));
    f.onData(page("s", 3, { a: nd(Float64Array.of(1, 2, 3)), b: nd(Int32Array.of(10, 20, 30)) }));
    const s = f.snapshot()!;
    expect(s.kind).toBe("table");
    expect(s.body).toEqual({
      columns: ["a", "b"],
      rows: [
        [3, 30],
        [2, 20],
        [1, 10],
      ],
    });
    f.onData(event("s", { a: "late" }, 2));
    expect((f.snapshot()!.body as { rows: unknown[][] }).rows[0]).toEqual(["late", null]);
    f.onRunStart();
    expect(f.snapshot()!.body).toEqual({ columns: ["a", "b"], rows: [] });
  });

  it("takes an event of 1-D arrays as the whole table, limited to its count field", () => {
    const f = new TableFeed(table({ count: "n", rows: 2 }));
    // larpix-monitor: arrays of `keep` (4), oldest first, zero-padded after `n` (3) packets.
    f.onData(event("s", { n: 3, a: nd(Uint16Array.of(7, 8, 9, 0)), b: nd(Uint8Array.of(1, 2, 3, 0)) }));
    expect(f.snapshot()!.body).toEqual({
      columns: ["a", "b"],
      rows: [
        [9, 3],
        [8, 2],
      ],
    });
    f.onData(event("s", { n: 1, a: nd(Uint16Array.of(5, 0, 0, 0)), b: nd(Uint8Array.of(6, 0, 0, 0)) }, 2));
    expect(f.snapshot()!.body).toEqual({ columns: ["a", "b"], rows: [[5, 6]] });
  });
});

describe("scan-grid fit curves", () => {
  const grid = resolvePanels([
    {
      type: "scan-grid",
      stream: "pmt-gain",
      value: "gain",
      hist: "counts",
      histRange: [0, 4],
      fit: { field: "curve" },
      reference: { stream: "ref" },
      healthy: [1, 2],
      cells: ["a", "b"],
      columns: 2,
    },
  ])[0] as PanelOf<"scan-grid">;

  it("keeps each cell's fitted counts with its histogram; the reference's curve is ignored", () => {
    const f = new ScanFeed(grid);
    const curve = Float64Array.of(0.5, 3.5, 1.5, 0.25);
    f.onData(
      event("pmt-gain", { cell: 1, gain: 1.5, counts: nd(Float64Array.of(1, 4, 2, 0)), curve: nd(curve) }),
    );
    f.onData(
      event("ref", {
        cell: 1,
        gain: 9,
        counts: nd(Float64Array.of(1, 1, 1, 1)),
        curve: nd(Float64Array.of(9, 9, 9, 9)),
      }),
    );
    const d = f.cell(1)!;
    expect(Array.from(d.fit!)).toEqual(Array.from(curve));
    expect(Array.from(d.reference!)).toEqual([1, 1, 1, 1]);
    expect(d).toMatchObject({ label: "b", value: 1.5, range: [0, 4] });
    expect(f.cell(0)!.fit).toBeUndefined();
    f.onRunStart();
    expect(f.cell(1)!.fit).toBeUndefined();
  });

  it("reads the curve of each event of a page", () => {
    const f = new ScanFeed(grid);
    f.onData(
      page("pmt-gain", 2, {
        cell: nd(Int32Array.of(0, 1)),
        gain: nd(Float64Array.of(1.2, 1.8)),
        counts: nd(Float64Array.of(1, 2, 3, 4, 5, 6), [2, 3]),
        curve: nd(Float64Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6), [2, 3]),
      }),
    );
    expect(Array.from(f.cell(0)!.fit!)).toEqual([0.1, 0.2, 0.3]);
    expect(Array.from(f.cell(1)!.fit!)).toEqual([0.4, 0.5, 0.6]);
  });
});
