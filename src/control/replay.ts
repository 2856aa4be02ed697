// Publishes a stored run's documents at their recorded pace (or as fast as possible), reporting progress.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import {
  BoundedQueue,
  ErrorCode,
  HutchError,
  toHutchError,
  type Document,
  type RunStop,
} from "../core/index.js";
import { asReplay, readRunFile, runFileSummary } from "../storage/index.js";
import type { CallOptions, Progress } from "./api-types.js";

/** What {@link replayFiles} needs of the core. */
export interface ReplayHost {
  replayDocs(
    open: (run: number) => AsyncIterator<Document>,
    opts: { speed?: number; totalEvents?: number; timeoutMs?: number },
  ): AsyncIterable<Progress>;
}

/**
 * Replays stored run files (the parts of one run, in order) through a core: checks the files exist, counts their
 * events for the progress percentage, then streams the core's replay progress. Ends with a result or an error.
 */
export function replayFiles(
  core: ReplayHost,
  files: readonly string[],
  opts: CallOptions & { speed?: number } = {},
): AsyncIterable<Progress> {
  const paths = files.map((f) => resolve(f));
  const stream = new BoundedQueue<Progress>({ capacity: 10_000, overflow: "drop-oldest", name: "replay" });
  void (async () => {
    let totalEvents = 0;
    try {
      const missing = paths.filter((f) => !existsSync(f));
      if (missing.length) throw new HutchError(ErrorCode.Io, `no such run file: ${missing.join(", ")}`);
      if (!paths.length) throw new HutchError(ErrorCode.Validation, "no run file given");
      for (const f of paths)
        for (const rows of Object.values((await runFileSummary(f)).rows)) totalEvents += rows;
    } catch (err) {
      const e = toHutchError(err, ErrorCode.Io);
      stream.push({ type: "error", code: e.code, message: `replay: ${e.message}` });
      stream.close();
      return;
    }
    const inner = core.replayDocs(
      (run) => asReplay(readRunFile(paths), { run, file: paths[0]! })[Symbol.asyncIterator](),
      {
        speed: opts.speed ?? 0,
        totalEvents,
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      },
    );
    for await (const p of inner) stream.push(p);
    stream.close();
  })();
  return stream;
}

/** Options of {@link pumpReplay}. */
export interface PumpOptions {
  /** 1 = recorded pace, 10 = ten times faster, 0 = as fast as the chain takes them. */
  readonly speed: number;
  /** Events expected in all (for the percentage), 0 when unknown. */
  readonly total: number;
  readonly say: (message: string, data?: unknown) => void;
  /** Progress at most this often (default 250 ms). */
  readonly everyMs?: number;
  /**
   * Streams not to replay, by the component that made them: derived streams whose stage runs live during the
   * replay are computed afresh instead of being published twice.
   */
  readonly skipComponent?: (name: string) => boolean;
}

/**
 * Publishes descriptors, events and pages (awaiting each publish, so lossless consumers hold the pace back) until
 * the stored run-stop, which is returned rather than published: run control closes the replayed run itself.
 */
export async function pumpReplay(
  docs: AsyncIterator<Document>,
  publish: (d: Document) => Promise<void>,
  o: PumpOptions,
): Promise<{ events: number; stop?: RunStop }> {
  let events = 0;
  let firstTime: number | undefined;
  const t0 = performance.now();
  let lastSay = 0;
  const every = o.everyMs ?? 250;
  const skipped = new Set<string>();
  const report = () => {
    const pct = o.total > 0 ? Math.min(100, (100 * events) / o.total) : undefined;
    o.say(`replayed ${events}${o.total ? `/${o.total}` : ""} events`, {
      events,
      total: o.total,
      percent: pct,
    });
  };
  for (;;) {
    const r = await docs.next();
    if (r.done) break;
    const d = r.value;
    if (d.kind === "run-stop") {
      report();
      return { events, stop: d };
    }
    if (d.kind === "descriptor" && d.component !== undefined && o.skipComponent?.(d.component)) {
      skipped.add(d.uid);
      continue;
    }
    if ((d.kind === "event" || d.kind === "event-page") && skipped.has(d.descriptor)) continue;
    if (o.speed > 0 && (d.kind === "event" || d.kind === "event-page")) {
      const t = d.kind === "event" ? d.time : (d.time.data as Float64Array)[0]!;
      firstTime ??= t;
      const dueMs = ((t - firstTime) * 1000) / o.speed;
      const waitMs = dueMs - (performance.now() - t0);
      if (waitMs > 1) await new Promise((res) => setTimeout(res, waitMs));
    }
    await publish(d);
    if (d.kind === "event") events++;
    else if (d.kind === "event-page") events += d.n;
    if (performance.now() - lastSay > every) {
      lastSay = performance.now();
      report();
    }
  }
  report();
  return { events };
}
