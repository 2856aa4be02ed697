// Generic event building by time window: batches of (module, timestamp ns, row fields) in, events out, complete ones at once.
import {
  ErrorCode,
  HutchError,
  allocTyped,
  dtypeOf,
  shapeSize,
  type DType,
  type TypedArray,
} from "../core/index.js";

/** One per-readout field carried into events, e.g. `{ name: "data", dtype: "float32", rowShape: [64] }`. */
export interface RowFieldSpec {
  readonly name: string;
  readonly dtype: DType;
  /** Shape of one readout's value ([] for a scalar). */
  readonly rowShape: readonly number[];
}

/** Options of a TimeWindowBuilder. */
export interface TimeWindowOptions {
  /** Module indices run from 0 to modules-1. */
  readonly modules: number;
  /** Modules an event needs to be complete; default all. */
  readonly expectedModules?: readonly number[];
  /** A readout joins an open event when its timestamp is within +-windowNs of the event's first readout. */
  readonly windowNs: number;
  /** An incomplete event is emitted as partial this long after its first readout arrived (wall clock). */
  readonly timeoutMs: number;
  /** Open events held at most; opening one more emits the oldest as partial (counted as overflow). */
  readonly maxOpenEvents?: number;
  /** Emitted events remembered to tell late readouts and duplicates from new events. */
  readonly recentEvents?: number;
  readonly fields: readonly RowFieldSpec[];
  /** Millisecond clock (fake in tests). */
  readonly now?: () => number;
}

/** A columnar batch of readouts; field arrays hold `n x rowSize` elements. */
export interface ReadoutRows {
  readonly n: number;
  readonly module: ArrayLike<number>;
  readonly timeNs: BigUint64Array | BigInt64Array;
  readonly fields: Readonly<Record<string, TypedArray>>;
}

/** Built events, columnar: per event its time, first arrival, completeness, and per module its mask, time and fields. */
export interface BuiltEvents {
  readonly n: number;
  /** Earliest module timestamp of each event (ns). */
  readonly timeNs: BigUint64Array;
  /** Wall-clock arrival of each event's first readout (ms). */
  readonly firstArrivalMs: Float64Array;
  /** 1 when every expected module is present. */
  readonly complete: Uint8Array;
  /** [n, modules]: 1 where the module is present. */
  readonly mask: Uint8Array;
  /** [n, modules]: module timestamps, 0 where absent. */
  readonly moduleTimeNs: BigUint64Array;
  /** [n, modules, ...rowShape] per field; NaN (floats) or 0 where the module is absent. */
  readonly fields: Record<string, TypedArray>;
}

/** Counters of a builder; every readout in ends in exactly one of: an event, late, duplicates, collisions, invalidModule. */
export interface TimeWindowStats {
  readouts: number;
  events: number;
  complete: number;
  partial: number;
  /** Readouts whose event was already emitted, or older than every remembered event. */
  late: number;
  /** Readouts equal (module and timestamp) to one already taken. */
  duplicates: number;
  /** A second, different readout of a module within one event's window (window too wide for the rate?). */
  collisions: number;
  invalidModule: number;
  /** Partial events emitted early because maxOpenEvents were open. */
  overflow: number;
  /** Events open now. */
  open: number;
}

type Column = TypedArray & { set(a: ArrayLike<unknown>, offset?: number): void };
interface Field {
  readonly name: string;
  readonly dtype: DType;
  readonly rowSize: number;
  readonly fill: number | bigint;
  slots: Column;
  out: Column;
}

/**
 * Groups readouts of many modules into events by timestamp. An event is emitted the moment every expected module
 * has arrived, or as partial `timeoutMs` after its first readout; late readouts and duplicates are counted, never
 * merged into another event. Pure logic: the caller feeds batches, calls `poll()` on a timer and `take()`s events.
 * @example
 * const b = new TimeWindowBuilder({ modules: 32, windowNs: 10e6, timeoutMs: 200, fields: [{ name: "data", dtype: "float32", rowShape: [64] }] });
 * b.push(rows); const events = b.take();
 */
export class TimeWindowBuilder {
  readonly modules: number;
  readonly stats: TimeWindowStats = {
    readouts: 0,
    events: 0,
    complete: 0,
    partial: 0,
    late: 0,
    duplicates: 0,
    collisions: 0,
    invalidModule: 0,
    overflow: 0,
    open: 0,
  };
  private readonly windowNs: number;
  private readonly timeoutMs: number;
  private readonly maxOpen: number;
  private readonly now: () => number;
  private readonly expected: Uint8Array;
  private readonly expectedCount: number;
  private readonly fieldList: Field[];
  // open-event slots, structure of arrays
  private readonly anchor: Float64Array;
  private readonly created: Float64Array;
  private readonly count: Int32Array;
  private readonly present: Uint8Array;
  private readonly slotTime: BigUint64Array;
  private readonly freeSlots: number[] = [];
  /** Open slot indices in creation order (so also in deadline order). */
  private open: number[] = [];
  // ring of recently emitted events
  private readonly recentCap: number;
  private readonly recentAnchor: Float64Array;
  private readonly recentPresent: Uint8Array;
  private readonly recentTime: BigUint64Array;
  private recentLen = 0;
  private recentNext = 0;
  private recentMin = Infinity;
  // output accumulator (grows by doubling)
  private outCap = 0;
  private outN = 0;
  private outTime = new BigUint64Array(0);
  private outArrival = new Float64Array(0);
  private outComplete = new Uint8Array(0);
  private outMask = new Uint8Array(0);
  private outModTime = new BigUint64Array(0);

  constructor(opts: TimeWindowOptions) {
    const M = opts.modules;
    if (!Number.isInteger(M) || M < 1) throw bad(`modules must be an integer >= 1, got ${M}`);
    if (!(opts.windowNs >= 0)) throw bad(`windowNs must be >= 0, got ${opts.windowNs}`);
    if (!(opts.timeoutMs > 0)) throw bad(`timeoutMs must be > 0, got ${opts.timeoutMs}`);
    this.modules = M;
    this.windowNs = opts.windowNs;
    this.timeoutMs = opts.timeoutMs;
    this.maxOpen = opts.maxOpenEvents ?? 256;
    this.recentCap = opts.recentEvents ?? 64;
    if (!Number.isInteger(this.maxOpen) || this.maxOpen < 1) throw bad(`maxOpenEvents must be >= 1`);
    if (!Number.isInteger(this.recentCap) || this.recentCap < 1) throw bad(`recentEvents must be >= 1`);
    this.now = opts.now ?? Date.now;
    this.expected = new Uint8Array(M);
    for (const m of opts.expectedModules ?? Array.from({ length: M }, (_, i) => i)) {
      if (!Number.isInteger(m) || m < 0 || m >= M) throw bad(`expected module ${m} is outside 0..${M - 1}`);
      this.expected[m] = 1;
    }
    this.expectedCount = this.expected.reduce((a, b) => a + b, 0);
    if (this.expectedCount === 0) throw bad("expectedModules is empty");
    this.anchor = new Float64Array(this.maxOpen);
    this.created = new Float64Array(this.maxOpen);
    this.count = new Int32Array(this.maxOpen);
    this.present = new Uint8Array(this.maxOpen * M);
    this.slotTime = new BigUint64Array(this.maxOpen * M);
    for (let s = this.maxOpen - 1; s >= 0; s--) this.freeSlots.push(s);
    this.recentAnchor = new Float64Array(this.recentCap);
    this.recentPresent = new Uint8Array(this.recentCap * M);
    this.recentTime = new BigUint64Array(this.recentCap * M);
    this.fieldList = opts.fields.map((f) => {
      const rowSize = shapeSize(f.rowShape);
      const float = f.dtype === "float32" || f.dtype === "float64";
      const big = f.dtype === "uint64" || f.dtype === "int64";
      return {
        name: f.name,
        dtype: f.dtype,
        rowSize,
        fill: float ? NaN : big ? 0n : 0,
        slots: allocTyped(f.dtype, this.maxOpen * M * rowSize) as Column,
        out: allocTyped(f.dtype, 0) as Column,
      };
    });
  }

  /** Events waiting in `take()`. */
  get pending(): number {
    return this.outN;
  }

  /** Wall-clock time (ms) at which the oldest open event times out, or undefined when none is open. */
  nextDeadlineMs(): number | undefined {
    const s = this.open[0];
    return s === undefined ? undefined : this.created[s]! + this.timeoutMs;
  }

  /** Adds a batch of readouts; complete events are emitted at once. Throws HUTCH_ERR_VALIDATION on a malformed batch. */
  push(rows: ReadoutRows): void {
    this.checkRows(rows);
    const srcs = this.fieldList.map((f) => rows.fields[f.name]!);
    const M = this.modules;
    const w = this.windowNs;
    for (let i = 0; i < rows.n; i++) {
      this.stats.readouts++;
      const m = rows.module[i]!;
      if (!(m >= 0 && m < M) || !Number.isInteger(m)) {
        this.stats.invalidModule++;
        continue;
      }
      const ts = rows.timeNs[i]!;
      const t = Number(ts);
      let best = -1;
      let bestD = Infinity;
      for (const s of this.open) {
        const d = Math.abs(t - this.anchor[s]!);
        if (d <= w && d < bestD) {
          best = s;
          bestD = d;
        }
      }
      if (best < 0) {
        const r = this.findRecent(t);
        if (r >= 0) {
          if (this.recentPresent[r * M + m] && this.recentTime[r * M + m] === BigInt.asUintN(64, ts)) {
            this.stats.duplicates++;
          } else this.stats.late++;
          continue;
        }
        if (this.recentLen > 0 && t < this.recentMin - w) {
          this.stats.late++;
          continue;
        }
        best = this.openSlot(t);
      } else if (this.present[best * M + m]) {
        if (this.slotTime[best * M + m] === BigInt.asUintN(64, ts)) this.stats.duplicates++;
        else this.stats.collisions++;
        continue;
      }
      this.fill(best, m, srcs, i, ts);
      if (this.expected[m] && ++this.count[best]! === this.expectedCount) this.emit(best, true);
    }
    this.stats.open = this.open.length;
  }

  /** Emits every open event whose timeout has passed, as partial; returns how many. */
  poll(): number {
    const now = this.now();
    let n = 0;
    while (this.open.length > 0 && now - this.created[this.open[0]!]! >= this.timeoutMs) {
      this.emit(this.open[0]!, false);
      n++;
    }
    this.stats.open = this.open.length;
    return n;
  }

  /** Emits every open event now (end of run), partial ones included; returns how many. */
  flush(): number {
    const n = this.open.length;
    while (this.open.length > 0) this.emit(this.open[0]!, false);
    this.stats.open = 0;
    return n;
  }

  /** Takes the emitted events (copies; the builder keeps its buffers), or undefined when none. */
  take(): BuiltEvents | undefined {
    const n = this.outN;
    if (n === 0) return undefined;
    const M = this.modules;
    const fields: Record<string, TypedArray> = {};
    for (const f of this.fieldList) fields[f.name] = f.out.slice(0, n * M * f.rowSize);
    this.outN = 0;
    return {
      n,
      timeNs: this.outTime.slice(0, n),
      firstArrivalMs: this.outArrival.slice(0, n),
      complete: this.outComplete.slice(0, n),
      mask: this.outMask.slice(0, n * M),
      moduleTimeNs: this.outModTime.slice(0, n * M),
      fields,
    };
  }

  private checkRows(rows: ReadoutRows): void {
    if (rows.module.length < rows.n || rows.timeNs.length < rows.n) {
      throw bad(`readout batch of ${rows.n} rows has shorter module or time columns`);
    }
    for (const f of this.fieldList) {
      const a = rows.fields[f.name];
      if (!a) throw bad(`readout batch lacks field '${f.name}'`);
      if (a.length < rows.n * f.rowSize) {
        throw bad(`field '${f.name}' holds ${a.length} values, expected ${rows.n} x ${f.rowSize}`);
      }
    }
  }

  private findRecent(t: number): number {
    for (let k = 0; k < this.recentLen; k++) {
      if (Math.abs(t - this.recentAnchor[k]!) <= this.windowNs) return k;
    }
    return -1;
  }

  private openSlot(t: number): number {
    if (this.freeSlots.length === 0) {
      this.stats.overflow++;
      this.emit(this.open[0]!, false);
    }
    const s = this.freeSlots.pop()!;
    this.anchor[s] = t;
    this.created[s] = this.now();
    this.count[s] = 0;
    this.present.fill(0, s * this.modules, (s + 1) * this.modules);
    this.open.push(s);
    return s;
  }

  private fill(s: number, m: number, srcs: TypedArray[], i: number, ts: bigint): void {
    const k = s * this.modules + m;
    this.present[k] = 1;
    this.slotTime[k] = ts;
    for (let j = 0; j < this.fieldList.length; j++) {
      const f = this.fieldList[j]!;
      const src = srcs[j]!;
      const r = f.rowSize;
      if (r === 1) (f.slots as { [j: number]: unknown })[k] = src[i];
      else f.slots.set(src.subarray(i * r, i * r + r), k * r);
    }
  }

  private emit(s: number, complete: boolean): void {
    const M = this.modules;
    if (this.outN === this.outCap) this.grow();
    const e = this.outN++;
    let minT = -1n;
    for (let m = 0; m < M; m++) {
      const k = s * M + m;
      const o = e * M + m;
      const here = this.present[k]!;
      this.outMask[o] = here;
      const t = here ? this.slotTime[k]! : 0n;
      this.outModTime[o] = t;
      if (here && (minT < 0n || t < minT)) minT = t;
      for (const f of this.fieldList) {
        const r = f.rowSize;
        if (here) f.out.set(f.slots.subarray(k * r, k * r + r), o * r);
        else f.out.fill(f.fill as never, o * r, o * r + r);
      }
    }
    this.outTime[e] = minT < 0n ? 0n : minT;
    this.outArrival[e] = this.created[s]!;
    this.outComplete[e] = complete ? 1 : 0;
    this.stats.events++;
    if (complete) this.stats.complete++;
    else this.stats.partial++;
    this.remember(s);
    this.open.splice(this.open.indexOf(s), 1);
    this.freeSlots.push(s);
  }

  private remember(s: number): void {
    const M = this.modules;
    const r = this.recentNext;
    this.recentAnchor[r] = this.anchor[s]!;
    this.recentPresent.set(this.present.subarray(s * M, (s + 1) * M), r * M);
    this.recentTime.set(this.slotTime.subarray(s * M, (s + 1) * M), r * M);
    this.recentNext = (r + 1) % this.recentCap;
    if (this.recentLen < this.recentCap) this.recentLen++;
    let min = Infinity;
    for (let k = 0; k < this.recentLen; k++) min = Math.min(min, this.recentAnchor[k]!);
    this.recentMin = min;
  }

  private grow(): void {
    const cap = Math.max(16, this.outCap * 2);
    const M = this.modules;
    const g = <T extends TypedArray>(a: T, size: number): T => {
      const b = allocTyped(dtypeOf(a), size) as T;
      (b as Column).set(a as ArrayLike<unknown>);
      return b;
    };
    this.outTime = g(this.outTime, cap);
    this.outArrival = g(this.outArrival, cap);
    this.outComplete = g(this.outComplete, cap);
    this.outMask = g(this.outMask, cap * M);
    this.outModTime = g(this.outModTime, cap * M);
    for (const f of this.fieldList) {
      const b = allocTyped(f.dtype, cap * M * f.rowSize) as Column;
      b.set(f.out as ArrayLike<unknown>);
      f.out = b;
    }
    this.outCap = cap;
  }
}

function bad(message: string): HutchError {
  return new HutchError(ErrorCode.Validation, `time-window builder: ${message}`);
}
