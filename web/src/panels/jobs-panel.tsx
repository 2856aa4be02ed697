// Transfers and jobs: one row per job id with its state and a progress bar.
import { useFrame } from "../connection.js";
import { count } from "../format.js";
import type { PanelOf } from "../types.js";

interface JobsBody {
  rows: { id: string; label: string; state: string; done: number; total: number; time: number }[];
}

/** The jobs panel. */
export function JobsPanel({ panel }: { panel: PanelOf<"jobs"> }) {
  const rows = (useFrame(panel.id)?.body as JobsBody | undefined)?.rows ?? [];
  return (
    <div className="scroll">
      {rows.map((r) => {
        const frac = r.total > 0 ? Math.min(1, r.done / r.total) : r.state === "done" ? 1 : 0;
        const cls = r.state === "done" ? "done" : r.state === "failed" ? "failed" : "";
        return (
          <div className="job" key={r.id}>
            <span title={r.id}>{r.label}</span>
            <div className={`bar ${cls}`}>
              <i style={{ width: `${(frac * 100).toFixed(1)}%` }} />
            </div>
            <span
              className="num"
              style={{ color: cls === "failed" ? "var(--error)" : "var(--muted)", textAlign: "right" }}
            >
              {r.state === "running" && r.total > 0 ? `${count(r.done)}/${count(r.total)}` : r.state}
            </span>
          </div>
        );
      })}
      {!rows.length && <div className="empty">no transfers or jobs</div>}
    </div>
  );
}
