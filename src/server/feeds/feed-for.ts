// Which feed serves which panel type (plus the server-side quality rule of a panel that declares a range).
import type { Document } from "../../core/index.js";
import { panelStreams, type PanelSpec } from "../panel-schema.js";
import { QualityRule } from "../quality-rule.js";
import { BaseFeed, type Feed, type FeedBody } from "./feed.js";
import { HistogramFeed } from "./histogram-feed.js";
import { JobsFeed } from "./jobs-feed.js";
import { LatestArrayFeed } from "./latest-array-feed.js";
import { LogFeed } from "./log-feed.js";
import { ProfileFeed } from "./profile-feed.js";
import { RateFeed } from "./rate-feed.js";
import { ScanFeed } from "./scan-feed.js";
import { ScatterFeed } from "./scatter-feed.js";
import { SeriesFeed } from "./series-feed.js";
import { TableFeed } from "./table-feed.js";

/** Panels drawn from the status and alarms frames only have no feed of their own. */
class NoFeed extends BaseFeed {
  readonly streams: readonly string[] = [];
  readonly needsAll = false;
  snapshot(): FeedBody | undefined {
    return undefined;
  }
}

/**
 * The feeds of a panel: its own, plus a QualityRule when the panel gives `quality.low`/`quality.high` and a
 * `publish` function is available (the rule publishes quality and alarm documents).
 */
export function feedFor(panel: PanelSpec, publish?: (doc: Document) => void): Feed[] {
  const feeds: Feed[] = [main(panel)];
  const q = panel.quality;
  if (q && publish && (q.low !== undefined || q.high !== undefined)) {
    const stream = q.source ?? panelStreams(panel)[0];
    if (stream) feeds.push(new QualityRule({ ...panel, quality: q }, stream, publish));
  }
  return feeds;
}

function main(panel: PanelSpec): Feed {
  switch (panel.type) {
    case "rate":
      return new RateFeed(panel);
    case "series":
      return new SeriesFeed(panel);
    case "histogram":
      return new HistogramFeed(panel);
    case "image":
    case "camera-map":
      return new LatestArrayFeed(panel);
    case "scatter":
      return new ScatterFeed(panel);
    case "profile":
      return new ProfileFeed(panel);
    case "scan-grid":
      return new ScanFeed(panel);
    case "table":
      return new TableFeed(panel);
    case "logs":
      return new LogFeed(panel);
    case "jobs":
      return new JobsFeed(panel);
    case "run-control":
    case "components":
    case "alarms":
      return new NoFeed(panel.id);
  }
}
