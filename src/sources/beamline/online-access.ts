// Online access (replaces SACLA's onlineAccess grabber): named point detectors and ROI sums of the newest tags.
import { z } from "zod";
import {
  ErrorCode,
  HutchError,
  type Alarm,
  type Document,
  type Event,
  type EventPage,
} from "../../core/index.js";
import type { InprocBus, Subscription } from "../../transport/index.js";
import { TagHistory, type TagRows } from "./tag-history.js";

const StreamName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/, "a stream name: letters, digits, '_', '.', '-' only");

/** Options of online access: the streams to keep, by tag, and how many tags. */
export const OnlineAccessOptionsSchema = z.object({
  streams: z
    .array(
      z.strictObject({
        stream: StreamName,
        /** Scalar fields to keep (default: every scalar field but the key). */
        fields: z.array(z.string().min(1)).optional(),
      }),
    )
    .min(1, "name at least one stream to keep (e.g. the point detectors and a ROI node's output)"),
  history: z.number().int().min(1).max(1_000_000).default(2000).describe("tags kept (SACLA's default 2000)"),
  key: z.string().min(1).default("tag").describe("the field that numbers the pulses in every stream"),
  staleAfterMs: z
    .number()
    .int()
    .min(50)
    .default(2000)
    .describe("during a run, a stream silent this long is reported as a problem in the status"),
});
/** Options of online access. */
export type OnlineAccessOptions = z.infer<typeof OnlineAccessOptionsSchema>;

/** One stream as the status reports it. */
export interface OnlineStreamStatus {
  readonly stream: string;
  readonly events: number;
  readonly newestTag: number | undefined;
  readonly lastSeenAgeMs: number | undefined;
}

/** The status of online access: what is held, what arrives, and every problem in plain words. */
export interface OnlineStatus {
  /** False while any problem below exists. */
  readonly ok: boolean;
  readonly running: boolean;
  readonly run: number | undefined;
  readonly history: {
    readonly tags: number;
    readonly capacity: number;
    readonly oldestTag: number | undefined;
    readonly newestTag: number | undefined;
    readonly late: number;
  };
  readonly streams: OnlineStreamStatus[];
  /** Active alarms (a detector missing, a silent beamline...) and streams gone silent during a run. */
  readonly problems: string[];
}

/** Numbers of one scalar field of an event or page, or undefined when absent or not a scalar. */
function scalarOf(doc: Event | EventPage, field: string): ArrayLike<number> | undefined {
  const v = doc.data[field];
  if (v === undefined) return undefined;
  if (typeof v === "number") return [v];
  if (typeof v === "boolean") return [v ? 1 : 0];
  if (typeof v === "bigint") return [Number(v)];
  if (typeof v === "string") return undefined;
  const perEvent = doc.kind === "event-page" ? v.shape.length - 1 : v.shape.length;
  if (perEvent !== 0) return undefined;
  const d = v.data;
  return d instanceof BigInt64Array || d instanceof BigUint64Array
    ? Array.from(d, Number)
    : (d as ArrayLike<number>);
}

interface Seen {
  events: number;
  newestTag: number | undefined;
  lastSeen: number | undefined;
}

/**
 * Keeps the newest tags of named fields from the bus: each stream's events are joined by their `key` (tag)
 * into one bounded history, columns named `<stream>.<field>`. A bare field name resolves to the first stream (in
 * the configured order) that has it. Also follows alarms and run boundaries so that `status()` tells the truth:
 * a detector missing or a stream gone silent is listed, never hidden behind "running".
 * @example
 * const oa = new OnlineAccess(bus, OnlineAccessOptionsSchema.parse({ streams: [{ stream: "point" }, { stream: "rois" }] }));
 * oa.newest(120, ["i0", "roi1"]); oa.status(); oa.close();
 */
export class OnlineAccess {
  readonly history: TagHistory;
  private readonly subs: Subscription[] = [];
  private readonly seen = new Map<string, Seen>();
  private readonly alarms = new Map<string, Alarm>();
  private readonly untap: () => void;
  private running = false;
  private run: number | undefined;
  private runStartedAt = 0;

  constructor(
    private readonly bus: InprocBus,
    readonly opts: OnlineAccessOptions,
  ) {
    this.history = new TagHistory(opts.history);
    for (const s of opts.streams) {
      this.seen.set(s.stream, { events: 0, newestTag: undefined, lastSeen: undefined });
      const sub = bus.subscribe({
        prefix: `${bus.instrument}/${s.stream}/`,
        overflow: "drop-oldest",
        capacity: 1024,
        name: `online:${s.stream}`,
      });
      this.subs.push(sub);
      void this.consume(sub, s.stream, s.fields);
    }
    this.untap = bus.tap(`${bus.instrument}/`, ({ doc }) => this.follow(doc));
  }

  /** Documents the subscriptions dropped because this fell behind (never expected at 30 Hz). */
  get dropped(): number {
    return this.subs.reduce((a, s) => a + s.stats.dropped, 0);
  }

  /** Every column name (`stream.field`). */
  names(): string[] {
    return this.history.names();
  }

  /** Resolves names: `stream.field` as is, a bare `field` to the first configured stream that has it. */
  resolve(names: readonly string[]): string[] {
    const known = this.history.names();
    return names.map((n) => {
      if (known.includes(n)) return n;
      for (const s of this.opts.streams) if (known.includes(`${s.stream}.${n}`)) return `${s.stream}.${n}`;
      throw new HutchError(
        ErrorCode.Validation,
        `online access: no field '${n}' (known: ${known.join(", ") || "none yet: no tag has arrived"})`,
      );
    });
  }

  /** The newest `n` tags of the named fields, oldest first (NaN where a tag lacks a value). */
  newest(n: number, names: readonly string[]): TagRows & { names: string[] } {
    const cols = this.resolve(names);
    const rows = this.history.newest(n, cols);
    const values: Record<string, Float64Array> = {};
    names.forEach((name, i) => (values[name] = rows.values[cols[i]!]!));
    return { tags: rows.tags, values, names: cols };
  }

  status(): OnlineStatus {
    const now = performance.now();
    const problems: string[] = [];
    for (const a of this.alarms.values()) problems.push(`${a.severity}: ${a.message}`);
    const streams = this.opts.streams.map(({ stream }) => {
      const s = this.seen.get(stream)!;
      const age = s.lastSeen === undefined ? undefined : Math.round(now - s.lastSeen);
      const silentMs = now - (s.lastSeen ?? this.runStartedAt);
      if (
        this.running &&
        silentMs > this.opts.staleAfterMs &&
        now - this.runStartedAt > this.opts.staleAfterMs
      ) {
        problems.push(
          `stream '${stream}' silent for ${(silentMs / 1000).toFixed(1)} s` +
            (s.newestTag === undefined ? " (nothing this run)" : ` (newest tag ${s.newestTag})`),
        );
      }
      return { stream, events: s.events, newestTag: s.newestTag, lastSeenAgeMs: age };
    });
    return {
      ok: problems.length === 0,
      running: this.running,
      run: this.run,
      history: {
        tags: this.history.size,
        capacity: this.history.capacity,
        oldestTag: this.history.oldestTag(),
        newestTag: this.history.newestTag(),
        late: this.history.late,
      },
      streams,
      problems,
    };
  }

  close(): void {
    this.untap();
    for (const s of this.subs) s.close();
  }

  private follow(doc: Document): void {
    if (doc.kind === "alarm") {
      if (doc.active && doc.severity !== "info") this.alarms.set(doc.id, doc);
      else this.alarms.delete(doc.id);
    } else if (doc.kind === "run-start") {
      this.running = true;
      this.run = doc.run;
      this.runStartedAt = performance.now();
      for (const s of this.seen.values()) s.lastSeen = undefined;
    } else if (doc.kind === "run-stop") {
      this.running = false;
    }
  }

  private async consume(
    sub: Subscription,
    stream: string,
    fields: readonly string[] | undefined,
  ): Promise<void> {
    const key = this.opts.key;
    for await (const { doc } of sub) {
      if (doc.kind !== "event" && doc.kind !== "event-page") continue;
      const tags = scalarOf(doc, key);
      if (!tags) continue;
      const s = this.seen.get(stream)!;
      const n = doc.kind === "event" ? 1 : doc.n;
      s.events += n;
      s.lastSeen = performance.now();
      for (let i = 0; i < n; i++)
        if (s.newestTag === undefined || tags[i]! > s.newestTag) s.newestTag = tags[i]!;
      for (const f of fields ?? Object.keys(doc.data)) {
        if (f === key) continue;
        const v = scalarOf(doc, f);
        if (!v) continue;
        const col = `${stream}.${f}`;
        for (let i = 0; i < n; i++) this.history.put(tags[i]!, col, v[i]!);
      }
    }
  }
}
