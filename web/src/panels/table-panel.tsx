// Table: the newest rows of a stream's fields (newest first), e.g. the last 100 LArPix packets.
import { useFrame } from "../connection.js";
import { clock, num } from "../format.js";
import type { PanelOf } from "../types.js";

interface TableBody {
  columns: string[];
  rows: (number | string | null)[][];
}

/** A cell as text: times (unix seconds in a `time` column) as clock time, numbers compactly, strings as they are. */
function cellText(column: string, v: number | string | null): string {
  if (v === null) return "–";
  if (typeof v === "string") return v;
  if (column === "time" && v > 1e9) return clock(v);
  return Number.isInteger(v) ? String(v) : num(v);
}

/** The table panel. */
export function TablePanel({ panel }: { panel: PanelOf<"table"> }) {
  const body = useFrame(panel.id)?.body as TableBody | undefined;
  const columns = body?.columns ?? panel.fields;
  const rows = body?.rows ?? [];
  return (
    <div className="scroll table-panel" data-testid={`table-${panel.id}`}>
      <table>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {r.map((v, k) => (
                <td key={k} className={typeof v === "number" ? "num" : undefined}>
                  {cellText(columns[k] ?? "", v)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {!rows.length && <div className="empty">no rows yet</div>}
    </div>
  );
}
