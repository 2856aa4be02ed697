// The CHEC event listener (SSDAQ's SSEventListener): built events from a ZeroMQ publisher, one object per event.
import { ErrorCode, HutchError, type EventPage } from "../../core/index.js";
import { ZmqSubscriber } from "../../transport/index.js";
import { TARGET_C_PIXELS } from "../../codecs/index.js";

/** One built CHEC event; the arrays are views into the received page (no copy). */
export interface ChecEvent {
  readonly eventNumber: bigint;
  readonly runNumber: bigint;
  /** Earliest module timestamp (ns). */
  readonly timestampNs: bigint;
  /** Unix time (s) the event's first readout arrived. */
  readonly time: number;
  /** Every expected module present. */
  readonly complete: boolean;
  /** [modules]: 1 where the module is present. */
  readonly mask: Uint8Array;
  /** [modules] main and aux timestamps (ns), 0 where absent. */
  readonly moduleTimestampNs: BigUint64Array;
  readonly auxTimestampNs: BigUint64Array;
  /** [modules x 64] mV, row-major; NaN where the module is absent. */
  readonly data: Float32Array;
  readonly modules: number;
}

/** Options of a CHEC listener. */
export interface ChecListenOptions {
  /** Topic prefix of the events (default `chec/events/`: instrument `chec`, stream `events`). */
  readonly topic?: string;
  /** Pages buffered before the oldest are dropped (counted in `dropped`); default 1024. */
  readonly capacity?: number;
  /** Ends the listener (wire it to Ctrl-C). */
  readonly signal?: AbortSignal;
}

/**
 * Listens to CHEC events published by Hutch (`core.publish`, or a ZmqPublisher) and hands them out one by one,
 * as an async iterable or with `get({ timeoutMs })`. Ends cleanly on `close()` or when `signal` aborts.
 * @example
 * const ac = new AbortController(); process.once("SIGINT", () => ac.abort());
 * const events = await listenChec("tcp://127.0.0.1:5562", { signal: ac.signal });
 * for await (const e of events) console.log(e.eventNumber, e.data[0]);
 */
export async function listenChec(address: string, opts: ChecListenOptions = {}): Promise<ChecListener> {
  const topic = opts.topic ?? "chec/events/";
  const sub = await ZmqSubscriber.open({
    address,
    prefix: topic,
    capacity: opts.capacity ?? 1024,
    overflow: "drop-oldest",
    name: `chec-listener:${topic}`,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return new ChecListener(sub);
}

/** Events of received pages, one at a time. */
export class ChecListener implements AsyncIterable<ChecEvent> {
  private page: EventPage | undefined;
  private next = 0;

  constructor(private readonly sub: ZmqSubscriber) {}

  /** Pages dropped because the reader fell behind. */
  get dropped(): number {
    return this.sub.stats.dropped;
  }

  /** The next event within `timeoutMs` (forever when omitted), or undefined on timeout or after close. */
  async get(opts: { timeoutMs?: number } = {}): Promise<ChecEvent | undefined> {
    const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
    for (;;) {
      if (this.page && this.next < this.page.n) return eventAt(this.page, this.next++);
      const left = deadline - Date.now();
      if (left <= 0 && deadline !== Infinity) return undefined;
      const m = await this.sub.get(deadline === Infinity ? {} : { timeoutMs: left });
      if (!m) return undefined;
      if (m.doc.kind === "event-page") [this.page, this.next] = [m.doc, 0];
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ChecEvent> {
    for (let e = await this.get(); e; e = await this.get()) yield e;
  }

  /** Stops listening (idempotent); events already received can still be taken. */
  close(): void {
    this.sub.close();
  }
}

/** Event `i` of a CHEC event page. Throws HUTCH_ERR_WIRE when the page lacks a CHEC field. */
export function eventAt(p: EventPage, i: number): ChecEvent {
  const f = (name: string) => {
    const a = p.data[name];
    if (!a) throw new HutchError(ErrorCode.Wire, `event page of '${p.stream}' has no field '${name}'`);
    return a;
  };
  const mask = f("module_mask");
  const M = mask.shape[1] ?? 0;
  const sub = <T extends { subarray(a: number, b: number): T }>(a: T, per: number) =>
    a.subarray(i * per, (i + 1) * per);
  return {
    eventNumber: (f("event_number").data as BigUint64Array)[i]!,
    runNumber: (f("run_number").data as BigUint64Array)[i]!,
    timestampNs: (f("timestamp").data as BigUint64Array)[i]!,
    time: (p.time.data as Float64Array)[i]!,
    complete: (f("complete").data as Uint8Array)[i] === 1,
    mask: sub(mask.data as Uint8Array, M),
    moduleTimestampNs: sub(f("module_timestamp").data as BigUint64Array, M),
    auxTimestampNs: sub(f("aux_timestamp").data as BigUint64Array, M),
    data: sub(f("data").data as Float32Array, M * TARGET_C_PIXELS),
    modules: M,
  };
}
