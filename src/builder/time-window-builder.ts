// Generic event building by time window: batches of (module, timestamp ns, row fields) in, events out, complete ones at once.
import { ErrorCode, HutchError, nativeAddon, type DType, type TypedArray } from "../core/index.js";
import {
  EventAccumulator,
  FieldLayout,
  HI as HI_WORD,
  LO as LO_WORD,
  wordsOf,
  type Units,
} from "./event-columns.js";

// Module-local copies: under a CJS-style transpile (tsx) an imported binding is a getter call on every use.
const LO = LO_WORD;
const HI = HI_WORD;

/** Copies `n` units from `src[s..]` to `dst[d..]` (a loop for small rows, memcpy for large). */
function copyUnits(dst: Units, d: number, src: Units, s: number, n: number): void {
  if (n > 16) (dst as Int32Array).set((src as Int32Array).subarray(s, s + n), d);
  else for (let u = 0; u < n; u++) dst[d + u] = src[s + u]!;
}

/** The addon's row copy (one call for many rows), unless off or not built. */
let rowCopy = nativeAddon?.copyRows;

/**
 * Copies readout rows into event slots with the addon's `copyRows` (true) or in TypeScript (false; also when the
 * addon is not built). Returns the previous setting. The two give the same events; tests compare them.
 */
export function useNativeRowCopy(on: boolean): boolean {
  const was = rowCopy !== undefined;
  rowCopy = on ? nativeAddon?.copyRows : undefined;
  return was;
}

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

/**
 * Groups readouts of many modules into events by timestamp. An event is emitted the moment every expected module
 * has arrived, or as partial `timeoutMs` after its first readout; late readouts and duplicates are counted, never
 * merged into another event. Pure logic: the caller feeds batches, calls `poll()` on a timer and `take()`s events.
 * Works on 32-bit words of the timestamps (no bigints per readout) and copies rows in 32-bit units.
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
  private readonly fields: FieldLayout[];
  // open-event slots, structure of arrays; index k = slot * modules + module
  private readonly anchor: Float64Array;
  private readonly created: Float64Array;
  private readonly count: Int32Array;
  private readonly filled: Int32Array;
  private readonly present: Uint8Array;
  private readonly slotTime: Uint32Array;
  private readonly slotUnits: Units[];
  private readonly freeSlots: number[] = [];
  /** Open slots as a list in creation order (so also in deadline order): first, last, next and previous (-1: none). */
  private head = -1;
  private tail = -1;
  private openCount = 0;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  /** Per module, the slot its last readout went to (a hint: the next readout belongs to that slot's next). */
  private readonly lastSlot: Int32Array;
  // ring of recently emitted events
  private readonly recentCap: number;
  private readonly recentAnchor: Float64Array;
  private readonly recentPresent: Uint8Array;
  private readonly recentTime: Uint32Array;
  private recentLen = 0;
  private recentNext = 0;
  private recentMin = Infinity;
  private readonly out: EventAccumulator;
  /** Rows of the batch being pushed still to copy into slots: batch row, slot cell; copied before any emit. */
  private pendRow = new Int32Array(0);
  private pendCell = new Int32Array(0);
  private pendCount = 0;
  private pendUnits: Units[] = [];

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
    const S = this.maxOpen;
    this.anchor = new Float64Array(S);
    this.created = new Float64Array(S);
    this.count = new Int32Array(S);
    this.filled = new Int32Array(S);
    this.present = new Uint8Array(S * M);
    this.slotTime = new Uint32Array(S * M * 2);
    this.next = new Int32Array(S).fill(-1);
    this.prev = new Int32Array(S).fill(-1);
    this.lastSlot = new Int32Array(M).fill(-1);
    for (let s = S - 1; s >= 0; s--) this.freeSlots.push(s);
    this.recentAnchor = new Float64Array(this.recentCap);
    this.recentPresent = new Uint8Array(this.recentCap * M);
    this.recentTime = new Uint32Array(this.recentCap * M * 2);
    this.fields = opts.fields.map((f) => new FieldLayout(f.name, f.dtype, f.rowShape));
    this.slotUnits = this.fields.map((f) => f.alloc(S * M).units);
    this.out = new EventAccumulator(M, this.fields);
  }

  /** Events waiting in `take()`. */
  get pending(): number {
    return this.out.n;
  }

  /** Wall-clock time (ms) at which the oldest open event times out, or undefined when none is open. */
  nextDeadlineMs(): number | undefined {
    const s = this.head;
    return s < 0 ? undefined : this.created[s]! + this.timeoutMs;
  }

  /** Adds a batch of readouts; complete events are emitted at once. Throws HUTCH_ERR_VALIDATION on a malformed batch. */
  push(rows: ReadoutRows): void {
    this.checkRows(rows);
    const srcUnits = this.fields.map((f) => f.units(rows.fields[f.name]!));
    const tw = wordsOf(rows.timeNs);
    const mod = rows.module;
    const M = this.modules;
    const w = this.windowNs;
    const st = this.stats;
    // typed arrays in locals: the loop calls methods, after which V8 would reload fields
    const anchor = this.anchor;
    const present = this.present;
    const slotTime = this.slotTime;
    const filled = this.filled;
    const count = this.count;
    const next = this.next;
    const lastSlot = this.lastSlot;
    const expected = this.expected;
    const expectedCount = this.expectedCount;
    const lo_ = LO;
    const hi_ = HI;
    const n = rows.n;
    if (this.pendRow.length < n) {
      this.pendRow = new Int32Array(n);
      this.pendCell = new Int32Array(n);
    }
    const pendRow = this.pendRow;
    const pendCell = this.pendCell;
    this.pendUnits = srcUnits;
    st.readouts += n;
    for (let i = 0; i < n; i++) {
      const m = mod[i]!;
      if (!(m >= 0 && m < M) || (m | 0) !== m) {
        st.invalidModule++;
        continue;
      }
      const lo = tw[2 * i + lo_]!;
      const hi = tw[2 * i + hi_]!;
      const t = hi * 4294967296 + lo;
      // An anchor closer than w/2 is the only possible match, since open anchors lie more than w apart. A module's
      // readouts come in time order: try the event after the one its last readout joined, then that one.
      let best = -1;
      const ls = lastSlot[m]!;
      if (ls >= 0) {
        const c = next[ls]!;
        if (c >= 0 && 2 * Math.abs(t - anchor[c]!) <= w) best = c;
        else if (2 * Math.abs(t - anchor[ls]!) <= w && this.isOpen(ls)) best = ls;
      }
      if (best < 0) best = this.nearestOpen(t);
      if (best < 0) {
        const r = this.findRecent(t);
        if (r >= 0) {
          const k = r * M + m;
          const same =
            this.recentPresent[k] &&
            this.recentTime[2 * k + lo_] === lo &&
            this.recentTime[2 * k + hi_] === hi;
          if (same) st.duplicates++;
          else st.late++;
          continue;
        }
        if (this.recentLen > 0 && t < this.recentMin - w) {
          st.late++;
          continue;
        }
        best = this.openSlot(t);
      } else {
        const k = best * M + m;
        if (present[k]) {
          if (slotTime[2 * k + lo_] === lo && slotTime[2 * k + hi_] === hi) st.duplicates++;
          else st.collisions++;
          continue;
        }
      }
      lastSlot[m] = best;
      const k = best * M + m;
      present[k] = 1;
      slotTime[2 * k + lo_] = lo;
      slotTime[2 * k + hi_] = hi;
      filled[best]!++;
      // the row is copied later, many rows per call (see copyPending), always before its event is emitted
      pendRow[this.pendCount] = i;
      pendCell[this.pendCount++] = k;
      if (expected[m] && ++count[best]! === expectedCount) this.emit(best, true);
    }
    this.copyPending();
    this.pendUnits = [];
    st.open = this.openCount;
  }

  /** Copies the pending rows of the batch being pushed into their slot cells. */
  private copyPending(): void {
    const c = this.pendCount;
    if (c === 0) return;
    this.pendCount = 0;
    const copy = rowCopy;
    for (let f = 0; f < this.fields.length; f++) {
      const ru = this.fields[f]!.rowUnits;
      const dst = this.slotUnits[f]!;
      const src = this.pendUnits[f]!;
      if (copy) copy(dst, this.pendCell, src, this.pendRow, c, ru);
      else for (let j = 0; j < c; j++) copyUnits(dst, this.pendCell[j]! * ru, src, this.pendRow[j]! * ru, ru);
    }
  }

  /** Emits every open event whose timeout has passed, as partial; returns how many. */
  poll(): number {
    const now = this.now();
    let n = 0;
    while (this.head >= 0 && now - this.created[this.head]! >= this.timeoutMs) {
      this.emit(this.head, false);
      n++;
    }
    this.stats.open = this.openCount;
    return n;
  }

  /** Emits every open event now (end of run), partial ones included; returns how many. */
  flush(): number {
    const n = this.openCount;
    while (this.head >= 0) this.emit(this.head, false);
    this.stats.open = 0;
    return n;
  }

  /** Takes the emitted events (copies; the builder keeps its buffers), or undefined when none. */
  take(): BuiltEvents | undefined {
    if (this.out.n === 0) return undefined;
    const e = this.out.take();
    return {
      n: e.n,
      timeNs: e.time,
      firstArrivalMs: e.arrival,
      complete: e.complete,
      mask: e.mask,
      moduleTimeNs: e.modTime,
      fields: e.fields,
    };
  }

  private checkRows(rows: ReadoutRows): void {
    if (rows.module.length < rows.n || rows.timeNs.length < rows.n) {
      throw bad(`readout batch of ${rows.n} rows has shorter module or time columns`);
    }
    for (const f of this.fields) {
      const a = rows.fields[f.name];
      if (!a) throw bad(`readout batch lacks field '${f.name}'`);
      if (a.length < rows.n * f.rowSize) {
        throw bad(`field '${f.name}' holds ${a.length} values, expected ${rows.n} x ${f.rowSize}`);
      }
      if (a.BYTES_PER_ELEMENT * f.rowSize * 1 !== f.fillUnits.byteLength) {
        throw bad(`field '${f.name}' has ${a.BYTES_PER_ELEMENT}-byte elements, expected ${f.dtype}`);
      }
    }
  }

  /** True when slot `s` holds an open event (free slots are unlinked and not the head). */
  private isOpen(s: number): boolean {
    return this.prev[s]! >= 0 || this.head === s;
  }

  /** The open event whose anchor is nearest `t` within the window, or -1 (scans in creation order). */
  private nearestOpen(t: number): number {
    const w = this.windowNs;
    const anchor = this.anchor;
    let best = -1;
    let bestD = Infinity;
    for (let s = this.head; s >= 0; s = this.next[s]!) {
      const d = Math.abs(t - anchor[s]!);
      if (d <= w && d < bestD) {
        best = s;
        bestD = d;
        if (2 * d <= w) break;
      }
    }
    return best;
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
      this.emit(this.head, false);
    }
    const s = this.freeSlots.pop()!;
    this.anchor[s] = t;
    this.created[s] = this.now();
    this.count[s] = 0;
    this.filled[s] = 0;
    this.present.fill(0, s * this.modules, (s + 1) * this.modules);
    this.prev[s] = this.tail;
    this.next[s] = -1;
    if (this.tail >= 0) this.next[this.tail] = s;
    else this.head = s;
    this.tail = s;
    this.openCount++;
    return s;
  }

  private emit(s: number, complete: boolean): void {
    this.copyPending();
    const M = this.modules;
    const out = this.out;
    const e = out.add();
    const all = this.filled[s] === M;
    let minLo = 0;
    let minHi = -1;
    for (let m = 0; m < M; m++) {
      const k = s * M + m;
      const o = e * M + m;
      const here = this.present[k]!;
      out.mask[o] = here;
      const lo = here ? this.slotTime[2 * k + LO]! : 0;
      const hi = here ? this.slotTime[2 * k + HI]! : 0;
      out.modTimeW[2 * o + LO] = lo;
      out.modTimeW[2 * o + HI] = hi;
      if (here && (minHi < 0 || hi < minHi || (hi === minHi && lo < minLo))) {
        minLo = lo;
        minHi = hi;
      }
      if (all) continue;
      for (let f = 0; f < this.fields.length; f++) {
        const ru = this.fields[f]!.rowUnits;
        if (here) copyUnits(out.units[f]!, o * ru, this.slotUnits[f]!, k * ru, ru);
        else copyUnits(out.units[f]!, o * ru, this.fields[f]!.fillUnits, 0, ru);
      }
    }
    if (all) {
      // every module present: one block per field
      for (let f = 0; f < this.fields.length; f++) {
        const ru = this.fields[f]!.rowUnits;
        const src = this.slotUnits[f]!.subarray(s * M * ru, (s + 1) * M * ru);
        (out.units[f] as Uint8Array).set(src as Uint8Array, e * M * ru);
      }
    }
    out.timeW[2 * e + LO] = minHi < 0 ? 0 : minLo;
    out.timeW[2 * e + HI] = minHi < 0 ? 0 : minHi;
    out.arrival[e] = this.created[s]!;
    out.complete[e] = complete ? 1 : 0;
    this.stats.events++;
    if (complete) this.stats.complete++;
    else this.stats.partial++;
    this.remember(s);
    const p = this.prev[s]!;
    const q = this.next[s]!;
    if (p >= 0) this.next[p] = q;
    else this.head = q;
    if (q >= 0) this.prev[q] = p;
    else this.tail = p;
    this.prev[s] = -1;
    this.next[s] = -1;
    this.openCount--;
    this.freeSlots.push(s);
  }

  private remember(s: number): void {
    const M = this.modules;
    const r = this.recentNext;
    this.recentAnchor[r] = this.anchor[s]!;
    this.recentPresent.set(this.present.subarray(s * M, (s + 1) * M), r * M);
    this.recentTime.set(this.slotTime.subarray(2 * s * M, 2 * (s + 1) * M), 2 * r * M);
    this.recentNext = (r + 1) % this.recentCap;
    if (this.recentLen < this.recentCap) this.recentLen++;
    let min = Infinity;
    for (let k = 0; k < this.recentLen; k++) min = Math.min(min, this.recentAnchor[k]!);
    this.recentMin = min;
  }
}

function bad(message: string): HutchError {
  return new HutchError(ErrorCode.Validation, `time-window builder: ${message}`);
}
