// The page: header (instrument, state, run, elapsed, alarms, link) and the grid of panels the instrument file declares.
import { useFrame, useLinkState } from "./connection.js";
import { count, duration } from "./format.js";
import { PanelView } from "./panels/panel-view.js";
import { useElapsed } from "./use-elapsed.js";
import { STATE_CLASS, type AlarmsBody, type LayoutView, type StatusView } from "./types.js";

function Header({ layout, status }: { layout: LayoutView | undefined; status: StatusView | undefined }) {
  const linkState = useLinkState();
  const alarms = useFrame("$alarms")?.body as AlarmsBody | undefined;
  const active = alarms?.alarms.filter((a) => a.active).length ?? 0;
  const elapsed = useElapsed(status);
  const events = status?.run ? Object.values(status.run.counts).reduce((a, b) => a + b, 0) : undefined;
  return (
    <header className="topbar">
      <div className="brand">HUTCH</div>
      <div className="instrument">
        <b>{layout?.instrument ?? "…"}</b>
        <span>{layout?.description ?? ""}</span>
      </div>
      <div className="spacer" />
      <span
        className={`pill big ${status ? STATE_CLASS[status.state] : "st-stop"}`}
        data-testid="system-state"
      >
        {status?.state ?? "—"}
      </span>
      <div className="kv">
        <small>Run</small>
        <b className="num" data-testid="run-number">
          {status?.run ? status.run.number : status?.lastRun !== undefined ? `(${status.lastRun})` : "—"}
        </b>
      </div>
      <div className="kv">
        <small>Elapsed</small>
        <b className="num">{elapsed === undefined ? "—" : duration(elapsed)}</b>
      </div>
      <div className="kv">
        <small>Events</small>
        <b className="num">{events === undefined ? "—" : count(events)}</b>
      </div>
      <div className="kv">
        <small>Alarms</small>
        <b>
          <span className={`badge ${active ? "badge-alarm" : ""}`} data-testid="alarm-count">
            {active}
          </span>
        </b>
      </div>
      <div className="link" title="WebSocket to the server">
        <span className={`dot ${linkState}`} />
        {linkState === "live" ? "live" : linkState === "down" ? "reconnecting" : "connecting"}
      </div>
    </header>
  );
}

/** The whole page. */
export function App() {
  const layout = useFrame("$layout")?.body as LayoutView | undefined;
  const status = useFrame("$status")?.body as StatusView | undefined;
  return (
    <>
      <Header layout={layout} status={status} />
      <main className="grid">
        {layout?.panels.map((p) => (
          <PanelView key={p.id} panel={p} layout={layout} />
        ))}
      </main>
    </>
  );
}
