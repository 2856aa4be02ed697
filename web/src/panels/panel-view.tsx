// A panel's frame: title bar, quality flag (red while a quality verdict says not ok), fixed-height body.
import type { ReactNode } from "react";
import { useFrame } from "../connection.js";
import type { AlarmsBody, LayoutView, PanelSpec } from "../types.js";
import { AlarmsPanel } from "./alarms-panel.js";
import { CameraMapPanel } from "./camera-map-panel.js";
import { ComponentsPanel } from "./components-panel.js";
import { HistogramPanel } from "./histogram-panel.js";
import { ImagePanel } from "./image-panel.js";
import { JobsPanel } from "./jobs-panel.js";
import { LogPanel } from "./log-panel.js";
import { ProfilePanel } from "./profile-panel.js";
import { RatePanel } from "./rate-panel.js";
import { RunControlPanel } from "./run-control-panel.js";
import { ScanGridPanel } from "./scan-grid-panel.js";
import { ScatterPanel } from "./scatter-panel.js";
import { SeriesPanel } from "./series-panel.js";
import { TablePanel } from "./table-panel.js";

/** The stream a panel's quality flag follows by default. */
function streamOf(p: PanelSpec): string | undefined {
  if ("stream" in p && typeof p.stream === "string") return p.stream;
  if (p.type === "series") return p.series[0]?.stream;
  return undefined;
}

/** The failing quality verdict of a panel, if any. */
function useBadQuality(p: PanelSpec): string | undefined {
  const alarms = useFrame("$alarms")?.body as AlarmsBody | undefined;
  if (!p.quality || !alarms) return undefined;
  const source = p.quality.source ?? streamOf(p);
  const q = alarms.quality.find((x) => x.source === source && x.field === p.quality!.field);
  return q && q.ok === false ? `${q.field} out of range` : undefined;
}

/** Chrome shared by every panel; `info` goes to the right of the title. */
export function PanelChrome(props: {
  panel: PanelSpec;
  info?: ReactNode;
  children: ReactNode;
  bad?: string;
}) {
  const { panel } = props;
  return (
    <section
      className={`panel ${props.bad ? "bad" : ""}`}
      style={{ gridColumn: `span ${panel.span}` }}
      data-panel={panel.id}
      data-type={panel.type}
      data-quality={props.bad ? "bad" : "ok"}
    >
      <div className="panel-head">
        <h2 title={panel.title}>{panel.title}</h2>
        {props.bad && <span className="flag">▲ {props.bad}</span>}
        <span className="info">{props.info}</span>
      </div>
      <div className="panel-body" style={{ height: panel.heightPx }}>
        {props.children}
      </div>
    </section>
  );
}

/** Picks the panel component for a panel type. */
export function PanelView({ panel, layout }: { panel: PanelSpec; layout: LayoutView }) {
  const bad = useBadQuality(panel);
  const body = (() => {
    switch (panel.type) {
      case "run-control":
        return <RunControlPanel panel={panel} layout={layout} />;
      case "components":
        return <ComponentsPanel />;
      case "rate":
        return <RatePanel panel={panel} />;
      case "series":
        return <SeriesPanel panel={panel} />;
      case "histogram":
        return <HistogramPanel panel={panel} />;
      case "image":
        return <ImagePanel panel={panel} layout={layout} />;
      case "camera-map":
        return <CameraMapPanel panel={panel} />;
      case "scatter":
        return <ScatterPanel panel={panel} />;
      case "profile":
        return <ProfilePanel panel={panel} />;
      case "scan-grid":
        return <ScanGridPanel panel={panel} />;
      case "table":
        return <TablePanel panel={panel} />;
      case "logs":
        return <LogPanel panel={panel} />;
      case "alarms":
        return <AlarmsPanel />;
      case "jobs":
        return <JobsPanel panel={panel} />;
    }
  })();
  return (
    <PanelChrome panel={panel} bad={bad}>
      {body}
    </PanelChrome>
  );
}
