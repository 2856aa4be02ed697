// Log panels: the newest log lines of every component (the page filters by level).
import type { Log } from "../../core/index.js";
import type { PanelOf } from "../panel-schema.js";
import { BaseFeed, type FeedBody } from "./feed.js";

/** Keeps the last `lines` log documents. */
export class LogFeed extends BaseFeed {
  readonly streams: readonly string[] = [];
  readonly needsAll = false;
  private readonly ring: Log[] = [];
  private seq = 0;

  constructor(private readonly panel: PanelOf<"logs">) {
    super(panel.id);
  }

  /** Adds a log line (from the hub's tap, or the core's backlog at start). */
  onLog(doc: Log): void {
    this.ring.push(doc);
    this.seq++;
    if (this.ring.length > this.panel.lines) this.ring.splice(0, this.ring.length - this.panel.lines);
    this.touch(doc.time);
  }

  snapshot(): FeedBody | undefined {
    return {
      kind: "logs",
      body: {
        seq: this.seq,
        lines: this.ring.map((l) => ({
          t: l.time,
          level: l.level,
          component: l.component,
          message: l.message,
        })),
      },
    };
  }
}
