// Rate panel: events per second of each stream, one point per second, counted by the server at every document.
import { useEffect, useState } from "react";
import type uPlot from "uplot";
import { link, notePaint } from "../connection.js";
import { num } from "../format.js";
import type { FrameNd, PanelOf } from "../types.js";
import { PALETTE, axes, usePlotHost } from "./plot.js";

interface RateBody {
  t: FrameNd;
  series: { stream: string; rate: FrameNd }[];
}

/** Streams named over the plot (the busiest); the rest are in the tooltip and the legend. */
const TOP_STREAMS = 3;

/** Draws the rate history; the header shows the latest complete second. */
export function RatePanel({ panel }: { panel: PanelOf<"rate"> }) {
  const [ref, host] = usePlotHost(panel.heightPx);
  const [latest, setLatest] = useState<{ top: string; all: string }>({ top: "", all: "" });
  const [seen, setSeen] = useState(false);
  useEffect(
    () =>
      link.subscribe(panel.id, (f) => {
        const b = f.body as RateBody;
        if (!host.current || !b.series.length) return;
        setSeen(true);
        const labels = b.series.map((s) => s.stream);
        const data = [b.t.data, ...b.series.map((s) => s.rate.data)] as uPlot.AlignedData;
        host.current.update(
          labels.join("|"),
          () => ({
            scales: {
              x: { time: true },
              y: panel.logY ? { distr: 3 } : { range: (_u, _lo, hi) => [0, Math.max(1, hi * 1.1)] },
            },
            axes: axes({ time: true, yLabel: "events/s" }),
            series: [
              {},
              ...labels.map((l, i) => ({
                label: l,
                stroke: PALETTE[i % PALETTE.length],
                width: 1.5,
                points: { show: false },
              })),
            ],
          }),
          data,
        );
        // The busiest streams on one line over the plot; every stream in the tooltip (16 would cover the plot).
        const last = b.series
          .map((s) => ({ stream: s.stream, rate: s.rate.data[s.rate.data.length - 1] ?? 0 }))
          .sort((x, y) => y.rate - x.rate);
        const text = last.map((s) => `${s.stream} ${num(s.rate, 3)}/s`);
        const more = last.length > TOP_STREAMS ? ` · +${last.length - TOP_STREAMS} more` : "";
        setLatest({ top: text.slice(0, TOP_STREAMS).join(" · ") + more, all: text.join("\n") });
        notePaint(f);
      }),
    [panel, host],
  );
  return (
    <>
      <div ref={ref} />
      {!seen && <div className="empty">waiting for events…</div>}
      {latest.top && (
        <div className="plot-stats num one-line" title={latest.all}>
          {latest.top}
        </div>
      )}
    </>
  );
}
