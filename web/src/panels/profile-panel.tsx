// Profile panel: mean of y per bin of x with error bars (error of the mean).
import { useEffect, useRef, useState } from "react";
import type uPlot from "uplot";
import { link, notePaint } from "../connection.js";
import type { FrameNd, PanelOf } from "../types.js";
import { axes, usePlotHost } from "./plot.js";

interface ProfileBody {
  empty?: boolean;
  centres: FrameNd;
  mean: FrameNd;
  sem: FrameNd;
  counts?: FrameNd;
}

/** Draws the profile; error bars come from a draw hook over the points. */
export function ProfilePanel({ panel }: { panel: PanelOf<"profile"> }) {
  const [ref, host] = usePlotHost(panel.heightPx, false);
  const sem = useRef<ArrayLike<number>>([]);
  // The y-range holds the error bars, not only the means.
  const yRange = useRef<[number, number]>([0, 1]);
  const [entries, setEntries] = useState<number | undefined>();
  useEffect(
    () =>
      link.subscribe(panel.id, (f) => {
        const b = f.body as ProfileBody;
        if (!host.current || b.empty) return;
        const mean = Array.from(b.mean.data, (v) => (Number.isFinite(v) ? v : null));
        sem.current = b.sem.data;
        let lo = Infinity;
        let hi = -Infinity;
        b.mean.data.forEach((m, i) => {
          const e = Number.isFinite(b.sem.data[i]!) ? b.sem.data[i]! : 0;
          if (!Number.isFinite(m)) return;
          lo = Math.min(lo, m - e);
          hi = Math.max(hi, m + e);
        });
        if (Number.isFinite(lo)) {
          const pad = hi > lo ? 0.08 * (hi - lo) : 0.5;
          yRange.current = [lo - pad, hi + pad];
        }
        host.current.update(
          "p",
          () => ({
            scales: { x: { time: false }, y: { range: () => yRange.current } },
            axes: axes({ xLabel: panel.x, yLabel: panel.y }),
            series: [
              {},
              {
                label: panel.y,
                stroke: "#3fb950",
                width: 1.5,
                spanGaps: false,
                points: { show: true, size: 5, fill: "#3fb950" },
              },
            ],
            hooks: { draw: [(u) => drawErrors(u, sem.current)] },
          }),
          [b.centres.data, mean] as uPlot.AlignedData,
        );
        setEntries(b.counts ? Array.from(b.counts.data).reduce((a, c) => a + c, 0) : -1);
        notePaint(f);
      }),
    [panel, host],
  );
  return (
    <>
      <div ref={ref} />
      {entries === undefined && <div className="empty">no entries yet</div>}
      {entries !== undefined && entries >= 0 && (
        <div className="plot-stats num">
          entries <b>{entries}</b>
        </div>
      )}
    </>
  );
}

function drawErrors(u: uPlot, sem: ArrayLike<number>): void {
  const xs = u.data[0] as ArrayLike<number>;
  const ys = u.data[1] as ArrayLike<number | null>;
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = "rgba(63,185,80,0.8)";
  ctx.lineWidth = 1.25 * devicePixelRatio;
  const cap = 3 * devicePixelRatio;
  ctx.beginPath();
  for (let i = 0; i < xs.length; i++) {
    const y = ys[i];
    const e = sem[i];
    if (y === null || y === undefined || e === undefined || !Number.isFinite(e)) continue;
    const px = u.valToPos(xs[i]!, "x", true);
    const lo = u.valToPos(y - e, "y", true);
    const hi = u.valToPos(y + e, "y", true);
    ctx.moveTo(px, lo);
    ctx.lineTo(px, hi);
    ctx.moveTo(px - cap, lo);
    ctx.lineTo(px + cap, lo);
    ctx.moveTo(px - cap, hi);
    ctx.lineTo(px + cap, hi);
  }
  ctx.stroke();
  ctx.restore();
}
