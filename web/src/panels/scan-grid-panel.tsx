// Scan grid: one cell per scan point, green inside the healthy range, red outside, yellow without data;
// a click opens the cell's histogram over its reference.
import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import { apiFrame, link, notePaint } from "../connection.js";
import { num } from "../format.js";
import type { FrameNd, PanelOf } from "../types.js";
import { PlotHost, axes } from "./plot.js";

interface ScanBody {
  values: FrameNd;
  hasHist: FrameNd;
}

interface CellDetail {
  cell: number;
  label: string;
  value: number;
  counts?: FrameNd;
  reference?: FrameNd;
  fit?: FrameNd;
  range?: [number, number];
}

/** The verdict of a value against the healthy range; NaN (and 0, which no measurement gives) is no data. */
export function verdict(v: number, [lo, hi]: readonly [number, number]): "ok" | "bad" | "none" {
  if (!Number.isFinite(v) || v === 0) return "none";
  return v >= lo && v <= hi ? "ok" : "bad";
}

function CellModal({
  panel,
  cell,
  onClose,
}: {
  panel: PanelOf<"scan-grid">;
  cell: number;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDivElement | null>(null);
  const [d, setD] = useState<CellDetail | undefined>();
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    let host: PlotHost | undefined;
    void apiFrame(`/api/panels/${panel.id}/cells/${cell}`).then((f) => {
      const detail = f?.body as CellDetail | undefined;
      setD(detail);
      if (!detail?.counts || !ref.current) {
        setMissing(true);
        return;
      }
      const n = detail.counts.data.length;
      const [lo, hi] = detail.range ?? [0, n];
      // x runs over edges and bin centres interleaved (e0, c0, e1, ..., en): steps hold each bin's count from
      // its left edge, and the fit curve (a line through the centres) shares the same x.
      const x = Array.from({ length: 2 * n + 1 }, (_, k) => lo + ((hi - lo) * k) / (2 * n));
      const steps = (a: ArrayLike<number>) =>
        Array.from({ length: 2 * n + 1 }, (_, k) => a[Math.min(n - 1, Math.floor(k / 2))] ?? 0);
      const stepped = uPlot.paths.stepped!({ align: 1 });
      const series: uPlot.Series[] = [
        {},
        {
          label: "this scan",
          stroke: "#58a6ff",
          fill: "rgba(88,166,255,0.22)",
          width: 1.25,
          paths: stepped,
          points: { show: false },
        },
      ];
      const data: (number | null)[][] = [x, steps(detail.counts.data)];
      if (detail.reference && detail.reference.data.length === n) {
        series.push({
          label: "reference",
          stroke: "#d29922",
          width: 1.5,
          dash: [5, 4],
          paths: stepped,
          points: { show: false },
        });
        data.push(steps(detail.reference.data));
      }
      if (detail.fit && detail.fit.data.length === n) {
        const fit = detail.fit.data;
        series.push({ label: "fit", stroke: "#f85149", width: 2, spanGaps: true, points: { show: false } });
        data.push(
          x.map((_, k) => {
            const v = k % 2 === 1 ? Number(fit[(k - 1) / 2]) : NaN;
            return Number.isFinite(v) ? v : null;
          }),
        );
      }
      host = new PlotHost(ref.current, 300, true);
      host.update(
        "c",
        () => ({ scales: { x: { time: false } }, axes: axes({ xLabel: panel.hist ?? "value" }), series }),
        data as uPlot.AlignedData,
      );
    });
    return () => host?.destroy();
  }, [panel, cell]);
  return (
    <div className="modal-bg" onClick={onClose}>
      <div className="modal" onClick={(e) => e.stopPropagation()} data-testid="cell-modal">
        <div className="panel-head">
          <h2>
            {panel.cells[cell]} · {panel.title}
          </h2>
          <span className="info num">
            {d ? `${panel.value} ${num(d.value)}${panel.units ? ` ${panel.units}` : ""}` : ""}
          </span>
          <button className="btn sm" onClick={onClose}>
            close
          </button>
        </div>
        <div style={{ height: 300, position: "relative", padding: "4px 0" }}>
          <div ref={ref} />
          {missing && <div className="empty">no histogram for this cell yet</div>}
        </div>
      </div>
    </div>
  );
}

/** The grid of cells. */
export function ScanGridPanel({ panel }: { panel: PanelOf<"scan-grid"> }) {
  const [values, setValues] = useState<Float64Array>(() => new Float64Array(panel.cells.length).fill(NaN));
  const [open, setOpen] = useState<number | undefined>();
  useEffect(
    () =>
      link.subscribe(panel.id, (f) => {
        setValues(Float64Array.from((f.body as ScanBody).values.data));
        notePaint(f);
      }),
    [panel.id],
  );
  const counts = { ok: 0, bad: 0, none: 0 };
  for (const v of values) counts[verdict(v, panel.healthy)]++;
  return (
    <>
      <div
        className="scan"
        style={{
          gridTemplateColumns: `repeat(${panel.columns}, minmax(0, 1fr))`,
          gridTemplateRows: `repeat(${Math.ceil(panel.cells.length / panel.columns)}, minmax(0, 1fr))`,
        }}
      >
        {panel.cells.map((label, i) => {
          const v = values[i]!;
          const k = verdict(v, panel.healthy);
          return (
            <div
              key={i}
              className={`cell ${k}`}
              data-testid={`cell-${i}`}
              data-verdict={k}
              onClick={() => setOpen(i)}
              title={`${label}: ${num(v)}`}
            >
              <small>{label}</small>
              <b>{k === "none" ? "no data" : num(v, 3)}</b>
            </div>
          );
        })}
      </div>
      <div className="plot-stats num" style={{ top: "auto", bottom: 4 }}>
        <span className="q-ok">{counts.ok}</span> ok · <span className="q-bad">{counts.bad}</span> out of
        range · <span className="q-none">{counts.none}</span> no data · healthy {num(panel.healthy[0])}–
        {num(panel.healthy[1])}
      </div>
      {open !== undefined && <CellModal panel={panel} cell={open} onClose={() => setOpen(undefined)} />}
    </>
  );
}
