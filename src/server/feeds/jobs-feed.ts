// Transfers and jobs: the latest state and progress of each job id, from events on the jobs stream.
import type { PanelOf } from "../panel-schema.js";
import { eventTimes, lastTime, scalarAt, type DataDoc } from "../field-values.js";
import { BaseFeed, type FeedBody } from "./feed.js";

/** A job row as the page shows it. */
export interface JobRow {
  id: string;
  label: string;
  state: string;
  done: number;
  total: number;
  time: number;
}

const MAX_JOBS = 200;

/** Events with `id`, `label`, `state`, `done`, `total` (any may be missing but `id`) update one row each. */
export class JobsFeed extends BaseFeed {
  readonly streams: readonly string[];
  readonly needsAll = true;
  private readonly rows = new Map<string, JobRow>();

  constructor(panel: PanelOf<"jobs">) {
    super(panel.id);
    this.streams = [panel.stream];
  }

  onData(doc: DataDoc): void {
    const n = doc.kind === "event" ? 1 : doc.n;
    const times = eventTimes(doc);
    for (let i = 0; i < n; i++) {
      const id = scalarAt(doc, "id", i);
      if (id === undefined) continue;
      const key = String(id);
      const old = this.rows.get(key);
      const num = (f: string, d: number) => {
        const v = scalarAt(doc, f, i);
        return typeof v === "number" ? v : d;
      };
      const str = (f: string, d: string) => {
        const v = scalarAt(doc, f, i);
        return v === undefined ? d : String(v);
      };
      this.rows.delete(key);
      this.rows.set(key, {
        id: key,
        label: str("label", old?.label ?? key),
        state: str("state", old?.state ?? "running"),
        done: num("done", old?.done ?? 0),
        total: num("total", old?.total ?? 0),
        time: times[i]!,
      });
      if (this.rows.size > MAX_JOBS) this.rows.delete(this.rows.keys().next().value!);
    }
    this.touch(lastTime(doc));
  }

  snapshot(): FeedBody | undefined {
    return { kind: "jobs", body: { rows: [...this.rows.values()].reverse() } };
  }
}
