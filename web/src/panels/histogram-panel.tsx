// Histogram panel: counts as steps over the bin edges, linear or log, with the fit node's curve drawn over them.
import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import { link, notePaint } from "../connection.js";
import { count, num } from "../format.js";
import type { FrameNd, PanelOf } from "../types.js";
import { axes, usePlotHost } from "./plot.js";

interface HistBody {
  empty?: boolean;
  edges: FrameNd;
  counts: FrameNd;
  stats: Record<string, number>;
  fit?: { x: FrameNd; y: FrameNd; params: Record<string, number> };
}

type Fit = HistBody["fit"];

/** Fit parameters worth a legend line: values with their errors when the node gives `<name>_err`. */
function fitText(params: Record<string, number>): string {
  const skip = new Set(["chi2", "ndf", "entries", "converged", "gain_err"]);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (skip.has(k) || k.endsWith("_err")) continue;
    const e = params[`${k}_err`];
    parts.push(`${k} ${num(v)}${e !== undefined && Number.isFinite(e) ? ` ± ${num(e, 2)}` : ""}`);
    if (parts.length >= 4) break;
  }
  if (params.chi2 !== undefined && params.ndf) parts.push(`χ²/ndf ${num(params.chi2 / params.ndf, 3)}`);
  return parts.join("  ");
}

/** Draws a histogram frame; the overlay curve is drawn in a uPlot draw hook from the latest fit. */
export function HistogramPanel({ panel }: { panel: PanelOf<"histogram"> }) {
  const [ref, host] = usePlotHost(panel.heightPx, false);
  const fit = useRef<Fit>(undefined);
  // The y-range follows the tallest bin or curve point (set before each update, read by the range function).
  const topRef = useRef(1);
  const [stats, setStats] = useState<
    { entries: number; mean?: number; rms?: number; fit?: string } | undefined
  >();
  useEffect(
    () =>
      link.subscribe(panel.id, (f) => {
        const b = f.body as HistBody;
        if (!host.current || b.empty) {
          if (b.empty) setStats(undefined);
          return;
        }
        const edges = b.edges.data;
        const n = b.counts.data.length;
        const y = new Array<number | null>(n + 1);
        let top = 0;
        for (let i = 0; i < n; i++) {
          const c = b.counts.data[i]!;
          y[i] = panel.logY && c <= 0 ? null : c;
          if (c > top) top = c;
        }
        y[n] = y[n - 1] ?? null;
        fit.current = b.fit;
        if (b.fit) for (const v of b.fit.y.data) if (v > top) top = v;
        const log = panel.logY;
        topRef.current = top;
        host.current.update(
          `${n}`,
          () => ({
            scales: {
              x: { time: false, range: (_u, lo, hi) => [lo, hi] },
              y: log
                ? { distr: 3, range: () => [0.5, Math.max(10, topRef.current * 2)] }
                : { range: () => [0, Math.max(1, topRef.current * 1.08)] },
            },
            axes: axes({ xLabel: panel.field }),
            cursor: { points: { show: false } },
            series: [
              {},
              {
                label: "counts",
                stroke: "#58a6ff",
                fill: "rgba(88,166,255,0.22)",
                width: 1.25,
                paths: uPlot.paths.stepped!({ align: 1 }),
                points: { show: false },
              },
            ],
            hooks: { draw: [(u) => drawFit(u, fit.current)] },
          }),
          [edges, y] as uPlot.AlignedData,
        );
        setStats({
          entries: b.stats.entries ?? 0,
          ...(b.stats.mean !== undefined ? { mean: b.stats.mean, rms: b.stats.rms } : {}),
          ...(b.fit ? { fit: fitText(b.fit.params) } : {}),
        });
        notePaint(f);
      }),
    [panel, host],
  );
  return (
    <>
      <div ref={ref} />
      {!stats && <div className="empty">no entries yet</div>}
      {stats && (
        <div className="plot-stats num" data-testid="hist-stats">
          entries <b data-testid="hist-entries">{count(stats.entries)}</b>
          {stats.mean !== undefined && (
            <>
              {"  "}mean <b>{num(stats.mean)}</b> rms <b>{num(stats.rms)}</b>
            </>
          )}
          {stats.fit && (
            <div className="fit" data-testid="hist-fit">
              fit: {stats.fit}
            </div>
          )}
        </div>
      )}
    </>
  );
}

function drawFit(u: uPlot, fit: Fit): void {
  if (!fit || fit.x.data.length < 2) return;
  const ctx = u.ctx;
  ctx.save();
  ctx.beginPath();
  ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
  ctx.clip();
  ctx.strokeStyle = "#ff7b72";
  ctx.lineWidth = 2 * devicePixelRatio;
  ctx.beginPath();
  let started = false;
  for (let i = 0; i < fit.x.data.length; i++) {
    const yv = fit.y.data[i]!;
    if (!(yv > 0) && u.scales.y!.distr === 3) continue;
    const px = u.valToPos(fit.x.data[i]!, "x", true);
    const py = u.valToPos(yv, "y", true);
    if (started) ctx.lineTo(px, py);
    else {
      ctx.moveTo(px, py);
      started = true;
    }
  }
  ctx.stroke();
  ctx.restore();
}
