// Run factories: the only makers of run-start/run-stop, descriptors, events and pages; they own uids, seq and counts.
import { randomUUID } from "node:crypto";
import type {
  Descriptor,
  Document,
  Event,
  EventPage,
  ExitStatus,
  FieldSpec,
  RunStart,
  RunStop,
} from "./documents.js";
import { ErrorCode, HutchError } from "./errors.js";
import { nd, type NdArray } from "./ndarray.js";

/** The Hutch version stamped into run-start documents. */
export const HUTCH_VERSION = "0.1.0";

/** Unix time in seconds from a millisecond clock. */
export const nowSec = (): number => Date.now() / 1000;

/** What a component needs to know of the run it takes part in. */
export interface RunInfo {
  readonly uid: string;
  readonly run: number;
  readonly instrument: string;
}

/**
 * Opens and closes one run and counts the events of each stream that passed through `count()`.
 * @example
 * const f = RunFactory.open({ run: 7, instrument: "demo", plan: "count", config: {} });
 * bus.publish(f.start); ...; const stop = f.stop("success", "operator stop");
 */
export class RunFactory {
  readonly counts: Record<string, number> = {};
  private stopped: RunStop | undefined;
  private constructor(readonly start: RunStart) {}

  /** Makes the run-start document of a new run. */
  static open(opts: {
    run: number;
    instrument: string;
    plan: string;
    config: Record<string, unknown>;
    replay?: RunStart["replay"];
    time?: number;
  }): RunFactory {
    const start: RunStart = {
      kind: "run-start",
      uid: randomUUID(),
      run: opts.run,
      instrument: opts.instrument,
      plan: opts.plan,
      time: opts.time ?? nowSec(),
      config: opts.config,
      hutchVersion: HUTCH_VERSION,
      ...(opts.replay ? { replay: opts.replay } : {}),
    };
    return new RunFactory(start);
  }

  /** Takes over an existing run-start (a replayed run, whose documents come from a file). */
  static adopt(start: RunStart): RunFactory {
    return new RunFactory(start);
  }

  /** The run as components see it. */
  get info(): RunInfo {
    return { uid: this.start.uid, run: this.start.run, instrument: this.start.instrument };
  }

  /** Counts a document of this run (events and pages add to their stream's count). */
  count(doc: Document): void {
    if ((doc.kind === "event" || doc.kind === "event-page") && doc.runUid === this.start.uid) {
      this.counts[doc.stream] = (this.counts[doc.stream] ?? 0) + (doc.kind === "event" ? 1 : doc.n);
    } else if (doc.kind === "descriptor" && doc.runUid === this.start.uid) {
      this.counts[doc.stream] ??= 0;
    }
  }

  /** Makes the run-stop document (once; later calls return the same document). */
  stop(exitStatus: ExitStatus, reason: string, time = nowSec()): RunStop {
    this.stopped ??= {
      kind: "run-stop",
      uid: randomUUID(),
      runUid: this.start.uid,
      run: this.start.run,
      time,
      exitStatus,
      reason,
      counts: { ...this.counts },
    };
    return this.stopped;
  }
}

/**
 * Makes the documents of one stream of a run: its descriptor, then events or pages with consecutive seq numbers.
 * @example
 * const s = new StreamFactory(run, "waveforms", { adc: { dtype: "uint16", shape: [1024] } });
 * publish(s.descriptor); publish(s.page(times, { adc: nd(adc, [n, 1024]) }));
 */
export class StreamFactory {
  readonly descriptor: Descriptor;
  /** Events made so far. */
  emitted = 0;

  constructor(
    readonly run: RunInfo,
    readonly stream: string,
    readonly fields: Record<string, FieldSpec>,
    opts: { component?: string; configuration?: Record<string, unknown>; time?: number } = {},
  ) {
    this.descriptor = {
      kind: "descriptor",
      uid: randomUUID(),
      runUid: run.uid,
      stream,
      time: opts.time ?? nowSec(),
      fields,
      ...(opts.component ? { component: opts.component } : {}),
      ...(opts.configuration ? { configuration: opts.configuration } : {}),
    };
  }

  /** One event with the next seq number. */
  event(data: Event["data"], time = nowSec()): Event {
    this.checkFields(Object.keys(data));
    return {
      kind: "event",
      descriptor: this.descriptor.uid,
      runUid: this.run.uid,
      stream: this.stream,
      seq: ++this.emitted,
      time,
      data,
    };
  }

  /** A page of `time.length` events with consecutive seq numbers; every array's first axis is the event count. */
  page(time: Float64Array, data: Record<string, NdArray>): EventPage {
    this.checkFields(Object.keys(data));
    const n = time.length;
    for (const [k, a] of Object.entries(data)) {
      if (a.shape[0] !== n) {
        throw new HutchError(
          ErrorCode.Validation,
          `${this.stream}.${k}: first axis ${a.shape[0]}, expected ${n}`,
        );
      }
    }
    const seq = this.emitted + 1;
    this.emitted += n;
    return {
      kind: "event-page",
      descriptor: this.descriptor.uid,
      runUid: this.run.uid,
      stream: this.stream,
      seq,
      n,
      time: nd(time),
      data,
    };
  }

  private checkFields(keys: string[]): void {
    for (const k of keys) {
      if (!(k in this.fields)) {
        throw new HutchError(ErrorCode.Validation, `${this.stream}: field '${k}' is not in the descriptor`);
      }
    }
  }
}

/** A file a run wrote, as the storage layer reports it to the run catalog. */
export interface RunFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly component?: string;
  /** Events per stream in this file. */
  readonly counts?: Record<string, number>;
}

/** What a component may report when its stop hook ends (recorded in the run catalog). */
export interface StopReport {
  readonly files?: RunFile[];
}
