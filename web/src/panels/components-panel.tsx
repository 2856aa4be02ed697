// Components: state, heartbeat age, counters and the last error of every registered component.
import { useFrame } from "../connection.js";
import { count, ms } from "../format.js";
import { STATE_CLASS, type StatusView } from "../types.js";

/** The components table (from the `$status` frame). */
export function ComponentsPanel() {
  const status = useFrame("$status")?.body as StatusView | undefined;
  const comps = status?.components ?? [];
  return (
    <div className="scroll">
      <table className="tbl" data-testid="components">
        <thead>
          <tr>
            <th style={{ width: "18%" }}>Component</th>
            <th style={{ width: "12%" }}>State</th>
            <th style={{ width: "11%" }}>Heartbeat</th>
            <th>Counters</th>
          </tr>
        </thead>
        <tbody>
          {comps.map((c) => {
            const entries = Object.entries(c.counters);
            return (
              <tr key={c.name}>
                <td title={`${c.type} · ${c.placement}`}>
                  <b>{c.name}</b>
                  <br />
                  <small style={{ color: "var(--muted)" }}>{c.type}</small>
                </td>
                <td>
                  <span className={`pill ${STATE_CLASS[c.lost ? "ERROR" : c.state]}`}>
                    {c.lost ? "LOST" : c.state}
                  </span>
                </td>
                <td className={`num ${c.heartbeatAgeMs > 1000 ? "late" : ""}`}>{ms(c.heartbeatAgeMs)}</td>
                {c.lastError ? (
                  <td className="err">{c.lastError}</td>
                ) : (
                  <td className="counters num" title={entries.map(([k, v]) => `${k} = ${v}`).join("\n")}>
                    {entries.slice(0, 6).map(([k, v]) => (
                      <span key={k} style={{ marginRight: 12 }}>
                        {k} <b>{count(v)}</b>
                      </span>
                    ))}
                    {entries.length > 6 && <span>+{entries.length - 6} more</span>}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {!comps.length && <div className="empty">no components registered</div>}
    </div>
  );
}
