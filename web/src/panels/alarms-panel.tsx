// Alarms (active first, then recently cleared) and the latest quality verdict of every checked field.
import { useFrame } from "../connection.js";
import { clock, num } from "../format.js";
import type { AlarmsBody } from "../types.js";

/** The alarms and quality panel. */
export function AlarmsPanel() {
  const body = useFrame("$alarms")?.body as AlarmsBody | undefined;
  const alarms = body?.alarms ?? [];
  const quality = body?.quality ?? [];
  return (
    <div className="scroll" data-testid="alarms">
      <div className="section">Alarms</div>
      {!alarms.length && (
        <div className="alarm">
          <span />
          <span className="reason">none raised</span>
          <span />
        </div>
      )}
      {alarms.map((a) => (
        <div
          key={a.id}
          className={`alarm ${a.active ? "active" : ""} ${a.severity}`}
          data-active={a.active ? "yes" : "no"}
        >
          <span className="sev" />
          <span>
            {a.message}
            <br />
            <small>
              {a.source} · {a.active ? `since ${clock(a.since)}` : `cleared ${clock(a.time)}`}
              {a.count > 1 ? ` · raised ${a.count}×` : ""}
            </small>
          </span>
          <small className="num">{a.active ? a.severity.toUpperCase() : "cleared"}</small>
        </div>
      ))}
      <div className="section">Quality</div>
      <table className="tbl">
        <tbody>
          {quality.map((q) => (
            <tr key={`${q.source}/${q.field}`}>
              <td>
                {q.source}.{q.field}
              </td>
              <td className="num">{num(q.value)}</td>
              <td className="num" style={{ color: "var(--muted)" }}>
                [{q.low === undefined ? "−∞" : num(q.low)}, {q.high === undefined ? "∞" : num(q.high)}]
              </td>
              <td className={q.ok === null ? "q-none" : q.ok ? "q-ok" : "q-bad"}>
                {q.ok === null ? "NO DATA" : q.ok ? "OK" : "BAD"}
              </td>
            </tr>
          ))}
          {!quality.length && (
            <tr>
              <td className="reason">no quality rules reporting</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
