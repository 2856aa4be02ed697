// Scatter panel: y against x of one stream, the newest points (sorted by x for drawing, points only).
import { useEffect, useState } from "react";
import type uPlot from "uplot";
import { link, notePaint } from "../connection.js";
import type { FrameNd, PanelOf } from "../types.js";
import { axes, usePlotHost } from "./plot.js";

/** Points sorted by x (uPlot draws ordered x); the page never holds more than the panel's `points`. */
function sortByX(x: Float64Array, y: Float64Array): [Float64Array, Float64Array] {
  const idx = Array.from(x, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  return [Float64Array.from(idx, (i) => x[i]!), Float64Array.from(idx, (i) => y[i]!)];
}

/** Draws the scatter frame. */
export function ScatterPanel({ panel }: { panel: PanelOf<"scatter"> }) {
  const [ref, host] = usePlotHost(panel.heightPx, false);
  const [n, setN] = useState(0);
  useEffect(
    () =>
      link.subscribe(panel.id, (f) => {
        const b = f.body as { x: FrameNd; y: FrameNd };
        if (!host.current || !b.x.data.length) return;
        const [x, y] = sortByX(b.x.data as Float64Array, b.y.data as Float64Array);
        host.current.update(
          "s",
          () => ({
            scales: { x: { time: false } },
            axes: axes({ xLabel: panel.x, yLabel: panel.y }),
            cursor: { points: { show: false } },
            series: [
              {},
              {
                label: panel.y,
                stroke: "#58a6ff",
                fill: "rgba(88,166,255,0.55)",
                paths: () => null,
                points: { show: true, size: 3.5, width: 0, fill: "rgba(88,166,255,0.6)" },
              },
            ],
          }),
          [x, y] as uPlot.AlignedData,
        );
        setN(x.length);
        notePaint(f);
      }),
    [panel, host],
  );
  return (
    <>
      <div ref={ref} />
      {n === 0 && <div className="empty">no points yet</div>}
      {n > 0 && <div className="plot-stats num">{n} points</div>}
    </>
  );
}
