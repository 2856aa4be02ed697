// The dashboard's view of the bus: one feed per panel, fed by non-blocking subscriptions, encoded at most once per change.
import { nowSec, toHutchError, type Document, type Log, type RunStart } from "../core/index.js";
import type { InprocBus, Subscription } from "../transport/index.js";
import { eventCount, type DataDoc } from "./field-values.js";
import { encodeFrame } from "./monitor-frame.js";
import type { PanelSpec } from "./panel-schema.js";
import { feedFor } from "./feeds/feed-for.js";
import type { Feed } from "./feeds/feed.js";
import { AlarmFeed } from "./feeds/alarm-feed.js";
import { LogFeed } from "./feeds/log-feed.js";

/** Options of the hub. */
export interface MonitorHubOptions {
  readonly bus: InprocBus;
  readonly instrument: string;
  /** Queue length of subscriptions that need every document (drop-oldest beyond it, counted). */
  readonly queueCapacity?: number;
  /** Called with problems worth a log line (a feed that threw), at most once per feed. */
  readonly warn?: (message: string) => void;
}

interface StreamSub {
  sub: Subscription;
  needsAll: boolean;
  readonly feeds: Set<Feed>;
}

/** Counters of the hub, exported on /metrics. */
export interface HubStats {
  framesEncoded: number;
  feedErrors: number;
  documentsSeen: number;
}

/**
 * Holds the feeds of the page's panels. Event documents reach feeds through bus subscriptions that never block
 * the publisher (latest-only for panels that show the newest value, drop-oldest for accumulating ones, every
 * drop counted in the bus stats); small documents (logs, alarms, quality, run start) and event counts come
 * from a synchronous tap. `frame(id)` encodes a feed's snapshot once per change, shared by every browser.
 */
export class MonitorHub {
  readonly alarms = new AlarmFeed();
  readonly stats: HubStats = { framesEncoded: 0, feedErrors: 0, documentsSeen: 0 };
  /** Event streams seen on the bus, with their descriptor's fields when one was seen. */
  readonly streamsSeen = new Map<string, Record<string, unknown> | undefined>();
  private readonly feeds = new Map<string, Feed>();
  private readonly subs = new Map<string, StreamSub>();
  private readonly cache = new Map<string, { version: number; bytes: Uint8Array }>();
  private readonly listeners = new Set<(id: string) => void>();
  private readonly warned = new Set<string>();
  private readonly untap: () => void;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: MonitorHubOptions) {
    this.feeds.set(this.alarms.id, this.alarms);
    this.untap = opts.bus.tap(`${opts.instrument}/`, ({ doc }) => {
      try {
        this.observe(doc);
      } catch (err) {
        this.fault("tap", err);
      }
    });
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref?.();
  }

  /** Adds the feed of a panel (and subscribes to its streams). Returns the feed. */
  addPanel(panel: PanelSpec, publish?: (doc: Document) => void): Feed[] {
    const added = feedFor(panel, publish);
    for (const f of added) this.addFeed(f);
    return added;
  }

  /** Adds a feed (a panel's, or a global one such as `$status`). */
  addFeed(feed: Feed): void {
    this.removeFeed(feed.id);
    this.feeds.set(feed.id, feed);
    for (const s of feed.streams) this.attach(s, feed);
  }

  /** Removes a feed and closes subscriptions nobody needs any more. */
  removeFeed(id: string): void {
    const f = this.feeds.get(id);
    if (!f) return;
    this.feeds.delete(id);
    this.cache.delete(id);
    for (const [stream, s] of this.subs) {
      if (!s.feeds.delete(f)) continue;
      if (s.feeds.size === 0) {
        s.sub.close();
        this.subs.delete(stream);
      }
    }
  }

  /** The feed of a panel id. */
  feed(id: string): Feed | undefined {
    return this.feeds.get(id);
  }

  /** Ids of every feed. */
  ids(): string[] {
    return [...this.feeds.keys()];
  }

  /** Calls `fn(id)` whenever a feed's snapshot changes. Returns an unsubscribe. */
  onChange(fn: (id: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Tells listeners that feed `id` changed (for feeds updated from outside, e.g. `$status`). */
  changed(id: string): void {
    for (const l of this.listeners) l(id);
  }

  /** The encoded frame of a feed's current snapshot (cached per version), or undefined when it has none. */
  frame(id: string): Uint8Array | undefined {
    const f = this.feeds.get(id);
    if (!f) return undefined;
    const c = this.cache.get(id);
    if (c && c.version === f.version) return c.bytes;
    const snap = f.snapshot();
    if (!snap) return undefined;
    const bytes = encodeFrame({
      panel: id,
      kind: snap.kind,
      t: nowSec(),
      ...(f.srcTime === undefined ? {} : { src: f.srcTime }),
      body: snap.body,
    });
    this.stats.framesEncoded++;
    this.cache.set(id, { version: f.version, bytes });
    return bytes;
  }

  /** Feeds a log line to the log panels (the core's backlog when the server starts). */
  log(doc: Log): void {
    for (const f of this.feeds.values()) if (f instanceof LogFeed) this.deliver(f, () => f.onLog(doc));
  }

  private attach(stream: string, feed: Feed): void {
    let s = this.subs.get(stream);
    if (s && feed.needsAll && !s.needsAll) {
      s.sub.close();
      s.sub = this.subscribe(stream, true, s);
      s.needsAll = true;
    }
    if (!s) {
      s = { needsAll: feed.needsAll, feeds: new Set() } as StreamSub;
      s.sub = this.subscribe(stream, feed.needsAll, s);
      this.subs.set(stream, s);
    }
    s.feeds.add(feed);
  }

  private subscribe(stream: string, needsAll: boolean, s: StreamSub): Subscription {
    const sub = this.opts.bus.subscribe({
      prefix: `${this.opts.instrument}/${stream}/`,
      overflow: needsAll ? "drop-oldest" : "latest-only",
      capacity: this.opts.queueCapacity ?? 256,
      name: `dashboard:${stream}`,
    });
    void (async () => {
      for await (const { doc } of sub) {
        if (doc.kind !== "event" && doc.kind !== "event-page") continue;
        for (const f of s.feeds) if (f.onData) this.deliver(f, () => f.onData!(doc as DataDoc));
      }
    })();
    return sub;
  }

  private deliver(f: Feed, fn: () => void): void {
    const before = f.version;
    try {
      fn();
    } catch (err) {
      this.fault(f.id, err);
    }
    if (f.version !== before) this.changed(f.id);
  }

  private fault(id: string, err: unknown): void {
    this.stats.feedErrors++;
    if (this.warned.has(id)) return;
    this.warned.add(id);
    this.opts.warn?.(
      `dashboard feed '${id}' failed: ${toHutchError(err).message} (further errors only counted)`,
    );
  }

  /** The synchronous tap: counts and small documents only, so the publisher never waits on the dashboard. */
  private observe(doc: Document): void {
    this.stats.documentsSeen++;
    switch (doc.kind) {
      case "event":
      case "event-page": {
        if (!this.streamsSeen.has(doc.stream)) this.streamsSeen.set(doc.stream, undefined);
        const n = eventCount(doc);
        const t = nowSec();
        for (const f of this.feeds.values())
          if (f.onCount) this.deliver(f, () => f.onCount!(doc.stream, n, t));
        return;
      }
      case "descriptor":
        this.streamsSeen.set(doc.stream, doc.fields);
        for (const f of this.feeds.values())
          if (f.onDescriptor && f.streams.includes(doc.stream)) this.deliver(f, () => f.onDescriptor!(doc));
        return;
      case "run-start":
        for (const f of this.feeds.values())
          if (f.onRunStart) this.deliver(f, () => f.onRunStart!(doc as RunStart));
        return;
      case "log":
        this.log(doc);
        return;
      case "alarm":
        this.deliver(this.alarms, () => this.alarms.onAlarm(doc));
        return;
      case "quality":
        this.deliver(this.alarms, () => this.alarms.onQuality(doc));
        return;
      default:
        return;
    }
  }

  private tick(): void {
    const t = nowSec();
    for (const f of this.feeds.values()) if (f.onTick) this.deliver(f, () => f.onTick!(t));
  }

  /** Closes every subscription and the tap. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.untap();
    for (const s of this.subs.values()) s.sub.close();
    this.subs.clear();
    this.listeners.clear();
  }
}
