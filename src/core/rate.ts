// Event rates over sliding windows of whole seconds, with a per-second history ring; overall and per key (pixel).
import { ErrorCode, HutchError } from "./errors.js";

const mod = (a: number, n: number): number => ((a % n) + n) % n;

function checkSeconds(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) {
    throw new HutchError(ErrorCode.Validation, `${name} must be an integer >= 1 s, got ${v}`);
  }
}

/** Options of a rate meter. */
export interface RateMeterOptions {
  /** Seconds of per-second counts kept (default 100). */
  readonly historySec?: number;
  /** Complete seconds averaged by `rate()` (default 1; at most `historySec`). */
  readonly windowSec?: number;
}

/**
 * Counts events into one slot per second (by the times you give it: event times or arrival times) and reports
 * the rate over the last complete seconds and the per-second history. Events older than the history are still
 * counted in `total` and in `late`. Times are unix seconds.
 * @example
 * const r = new RateMeter({ historySec: 100 });
 * r.addTimes(page.time.data); r.rate(Date.now() / 1000); r.history(Date.now() / 1000);
 */
export class RateMeter {
  readonly historySec: number;
  readonly windowSec: number;
  /** Every event added. */
  total = 0;
  /** Events older than the history when they arrived. */
  late = 0;
  /** Time of the earliest event added (NaN before any). */
  firstTimeSec = NaN;
  private readonly ring: Float64Array;
  private head: number | undefined;

  constructor(opts: RateMeterOptions = {}) {
    this.historySec = opts.historySec ?? 100;
    this.windowSec = opts.windowSec ?? 1;
    checkSeconds("historySec", this.historySec);
    checkSeconds("windowSec", this.windowSec);
    if (this.windowSec > this.historySec) {
      throw new HutchError(
        ErrorCode.Validation,
        `windowSec (${this.windowSec}) must not exceed historySec (${this.historySec})`,
      );
    }
    // One more slot than the history: the current, still incomplete second.
    this.ring = new Float64Array(this.historySec + 1);
  }

  /** Adds `n` events at time `tSec`. */
  add(tSec: number, n = 1): void {
    if (!Number.isFinite(tSec)) {
      throw new HutchError(ErrorCode.Validation, `rate meter: event time must be finite, got ${tSec}`);
    }
    const s = Math.floor(tSec);
    this.advance(s);
    this.total += n;
    if (!(tSec >= this.firstTimeSec)) this.firstTimeSec = tSec;
    if (s <= this.head! - this.ring.length) this.late += n;
    else this.ring[mod(s, this.ring.length)]! += n;
  }

  /** Adds one event per entry of `times[start..end)` (unix seconds). */
  addTimes(times: ArrayLike<number>, start = 0, end = times.length): void {
    for (let i = start; i < end; i++) this.add(times[i]!, 1);
  }

  /** Mean rate (Hz) over the `windowSec` complete seconds before the second holding `nowSec`. */
  rate(nowSec: number): number {
    const s = Math.floor(nowSec);
    this.advance(s);
    let sum = 0;
    for (let k = 1; k <= this.windowSec; k++) sum += this.ring[mod(s - k, this.ring.length)]!;
    return sum / this.windowSec;
  }

  /** Events counted so far in the (incomplete) second holding `nowSec`. */
  current(nowSec: number): number {
    const s = Math.floor(nowSec);
    this.advance(s);
    return this.ring[mod(s, this.ring.length)]!;
  }

  /**
   * Counts of the `historySec` complete seconds before `nowSec`, oldest first: `out[k]` covers the second
   * starting at `historyStartSec(nowSec) + k`.
   */
  history(nowSec: number, out: Float64Array = new Float64Array(this.historySec)): Float64Array {
    const s = Math.floor(nowSec);
    this.advance(s);
    for (let k = 0; k < this.historySec; k++)
      out[k] = this.ring[mod(s - this.historySec + k, this.ring.length)]!;
    return out;
  }

  /** Start (unix seconds) of the first second in `history(nowSec)`. */
  historyStartSec(nowSec: number): number {
    return Math.floor(nowSec) - this.historySec;
  }

  /** Mean rate (Hz) since `sinceSec` (e.g. run start) up to `nowSec`; 0 before any time has passed. */
  meanRate(sinceSec: number, nowSec: number): number {
    return nowSec > sinceSec ? this.total / (nowSec - sinceSec) : 0;
  }

  reset(): void {
    this.ring.fill(0);
    this.head = undefined;
    this.total = 0;
    this.late = 0;
    this.firstTimeSec = NaN;
  }

  /** Moves the newest slot to second `s`, clearing the slots passed over. */
  private advance(s: number): void {
    if (this.head !== undefined && s <= this.head) return;
    if (this.head === undefined || s - this.head >= this.ring.length) this.ring.fill(0);
    else for (let k = this.head + 1; k <= s; k++) this.ring[mod(k, this.ring.length)] = 0;
    this.head = s;
  }
}

/**
 * Per-key rates (e.g. per pixel) over a sliding window of whole seconds. Keys are integers in [0, keys);
 * anything else is counted in `invalidKeys`.
 * @example
 * const r = new KeyedRate(832, 10);
 * r.add(pixelIds, page.time.data); r.rates(now); // Float64Array(832), Hz
 */
export class KeyedRate {
  invalidKeys = 0;
  /** Events older than the window when they arrived. */
  late = 0;
  private readonly slots: number;
  private readonly ring: Float64Array;
  private head: number | undefined;

  constructor(
    readonly keys: number,
    readonly windowSec: number,
  ) {
    if (!Number.isInteger(keys) || keys < 1) {
      throw new HutchError(ErrorCode.Validation, `keyed rate: keys must be an integer >= 1, got ${keys}`);
    }
    checkSeconds("windowSec", windowSec);
    this.slots = windowSec + 1;
    this.ring = new Float64Array(this.slots * keys);
  }

  /**
   * Counts `keys[i]` at time `times[i]` (or at one time for the whole batch when `times` is a number), for
   * entries whose `mask` (if given) is non-zero.
   */
  add(keys: ArrayLike<number>, times: ArrayLike<number> | number, mask?: ArrayLike<number>): void {
    for (let i = 0; i < keys.length; i++) {
      if (mask && !mask[i]) continue;
      const k = keys[i]!;
      if (!Number.isInteger(k) || k < 0 || k >= this.keys) {
        this.invalidKeys++;
        continue;
      }
      const s = Math.floor(typeof times === "number" ? times : times[i]!);
      if (!Number.isFinite(s)) {
        this.invalidKeys++;
        continue;
      }
      this.advance(s);
      if (s <= this.head! - this.slots) this.late++;
      else this.ring[mod(s, this.slots) * this.keys + k]!++;
    }
  }

  /** Rate per key (Hz) over the `windowSec` complete seconds before `nowSec`, into `out`. */
  rates(nowSec: number, out: Float64Array = new Float64Array(this.keys)): Float64Array {
    const s = Math.floor(nowSec);
    this.advance(s);
    out.fill(0);
    for (let d = 1; d <= this.windowSec; d++) {
      const base = mod(s - d, this.slots) * this.keys;
      for (let k = 0; k < this.keys; k++) out[k] = out[k]! + this.ring[base + k]!;
    }
    const inv = 1 / this.windowSec;
    for (let k = 0; k < this.keys; k++) out[k] = out[k]! * inv;
    return out;
  }

  reset(): void {
    this.ring.fill(0);
    this.head = undefined;
    this.invalidKeys = 0;
    this.late = 0;
  }

  private advance(s: number): void {
    if (this.head !== undefined && s <= this.head) return;
    if (this.head === undefined || s - this.head >= this.slots) this.ring.fill(0);
    else
      for (let t = this.head + 1; t <= s; t++)
        this.ring.fill(0, mod(t, this.slots) * this.keys, (mod(t, this.slots) + 1) * this.keys);
    this.head = s;
  }
}
