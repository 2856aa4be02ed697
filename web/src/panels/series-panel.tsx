// Series panel: scalar fields over time (counters, analysis outputs, live ROI sums).
import { useEffect, useState } from "react";
import uPlot from "uplot";
import { link, notePaint } from "../connection.js";
import { num } from "../format.js";
import type { FrameNd, PanelOf } from "../types.js";
import { PALETTE, axes, usePlotHost } from "./plot.js";

interface SeriesBody {
  series: { label: string; x: FrameNd; y: FrameNd }[];
}

/** Draws each series against time; series of different streams are joined on their times. */
export function SeriesPanel({ panel }: { panel: PanelOf<"series"> }) {
  const [ref, host] = usePlotHost(panel.heightPx);
  const [last, setLast] = useState("");
  useEffect(
    () =>
      link.subscribe(panel.id, (f) => {
        const b = f.body as SeriesBody;
        if (!host.current || !b.series.some((s) => s.x.data.length)) return;
        const data =
          b.series.length === 1
            ? ([b.series[0]!.x.data, b.series[0]!.y.data] as uPlot.AlignedData)
            : uPlot.join(b.series.map((s) => [s.x.data, s.y.data] as uPlot.AlignedData));
        host.current.update(
          String(b.series.length),
          () => ({
            scales: { x: { time: true } },
            axes: axes({ time: true }),
            series: [
              {},
              ...b.series.map((s, i) => ({
                label: s.label,
                stroke: PALETTE[i % PALETTE.length],
                width: 1.5,
                spanGaps: true,
                points: { show: false },
              })),
            ],
          }),
          data,
        );
        setLast(b.series.map((s) => `${s.label} ${num(s.y.data[s.y.data.length - 1])}`).join(" · "));
        notePaint(f);
      }),
    [panel, host],
  );
  return (
    <>
      <div ref={ref} />
      {!last && <div className="empty">no data yet</div>}
      {last && (
        <div className="plot-stats num" data-testid="series-last">
          {last}
        </div>
      )}
    </>
  );
}
