// Unit tests of the time-window event builder, with a fake clock.
import { describe, expect, it } from "vitest";
import { isHutchError, nativeAddon } from "../core/index.js";
import {
  TimeWindowBuilder,
  useNativeRowCopy,
  type BuiltEvents,
  type ReadoutRows,
  type TimeWindowOptions,
} from "./time-window-builder.js";

const MS = 1_000_000; // ns
const T0 = 1_700_000_000_000_000_000n;

/** A fake millisecond clock. */
function fakeClock(start = 1000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** Readouts (module, ns offset from T0); row field `v` = [module, k] as float32[2], `aux` = uint64 scalar. */
function rows(list: [module: number, offsetNs: number][]): ReadoutRows {
  const n = list.length;
  const v = new Float32Array(n * 2);
  const aux = new BigUint64Array(n);
  list.forEach(([m, dt], i) => {
    v[2 * i] = m;
    v[2 * i + 1] = dt / MS;
    aux[i] = BigInt(m) * 10n;
  });
  return {
    n,
    module: Uint16Array.from(list.map(([m]) => m)),
    timeNs: BigUint64Array.from(list.map(([, dt]) => T0 + BigInt(dt))),
    fields: { v, aux },
  };
}

function builder(opts: Partial<TimeWindowOptions> = {}, clock = fakeClock()): TimeWindowBuilder {
  return new TimeWindowBuilder({
    modules: 4,
    windowNs: 5 * MS,
    timeoutMs: 100,
    fields: [
      { name: "v", dtype: "float32", rowShape: [2] },
      { name: "aux", dtype: "uint64", rowShape: [] },
    ],
    now: clock.now,
    ...opts,
  });
}

describe("TimeWindowBuilder", () => {
  it("emits a complete event the moment the last expected module arrives", () => {
    const b = builder();
    b.push(
      rows([
        [2, 1000],
        [0, 0],
      ]),
    );
    expect(b.take()).toBeUndefined();
    b.push(
      rows([
        [3, -2000],
        [1, 4 * MS],
      ]),
    );
    const e = b.take()!;
    expect(e.n).toBe(1);
    expect(e.complete[0]).toBe(1);
    expect([...e.mask]).toEqual([1, 1, 1, 1]);
    expect(e.timeNs[0]).toBe(T0 - 2000n); // earliest module timestamp
    expect([...e.moduleTimeNs]).toEqual([T0, T0 + BigInt(4 * MS), T0 + 1000n, T0 - 2000n]);
    expect([...e.fields.v!]).toEqual([0, 0, 1, 4, 2, 0.001, 3, -0.002].map(Math.fround));
    expect([...(e.fields.aux as BigUint64Array)]).toEqual([0n, 10n, 20n, 30n]);
    expect(e.firstArrivalMs[0]).toBe(1000);
    expect(b.stats).toMatchObject({ readouts: 4, events: 1, complete: 1, partial: 0, open: 0 });
  });

  it("emits a partial event after the timeout, with the mask of modules present and NaN/0 for absent ones", () => {
    const clock = fakeClock();
    const b = builder({}, clock);
    b.push(
      rows([
        [0, 0],
        [2, 0],
      ]),
    );
    clock.advance(99);
    expect(b.poll()).toBe(0);
    expect(b.nextDeadlineMs()).toBe(1100);
    clock.advance(1);
    expect(b.poll()).toBe(1);
    const e = b.take()!;
    expect(e.complete[0]).toBe(0);
    expect([...e.mask]).toEqual([1, 0, 1, 0]);
    expect([...e.moduleTimeNs]).toEqual([T0, 0n, T0, 0n]);
    expect(Number.isNaN(e.fields.v![2])).toBe(true);
    expect((e.fields.aux as BigUint64Array)[1]).toBe(0n);
    expect(b.stats).toMatchObject({ events: 1, partial: 1 });
    expect(b.nextDeadlineMs()).toBeUndefined();
  });

  it("counts a readout arriving after its event was emitted as late and never merges it", () => {
    const clock = fakeClock();
    const b = builder({}, clock);
    b.push(
      rows([
        [0, 0],
        [1, 0],
        [2, 0],
      ]),
    );
    clock.advance(100);
    b.poll();
    b.push(rows([[3, 1000]])); // module 3's readout for the emitted event
    expect(b.stats.late).toBe(1);
    b.push(
      rows([
        [0, 100 * MS],
        [1, 100 * MS],
        [2, 100 * MS],
        [3, 100 * MS],
      ]),
    );
    const e = b.take()!;
    expect(e.n).toBe(2);
    expect([...e.mask]).toEqual([1, 1, 1, 0, 1, 1, 1, 1]);
    expect(b.stats).toMatchObject({ readouts: 8, events: 2, complete: 1, partial: 1, late: 1 });
  });

  it("counts readouts older than every remembered event as late", () => {
    const b = builder();
    b.push(
      rows([
        [0, 0],
        [1, 0],
        [2, 0],
        [3, 0],
      ]),
    );
    b.push(rows([[1, -500 * MS]]));
    expect(b.stats.late).toBe(1);
    expect(b.stats.open).toBe(0);
  });

  it("counts duplicates in open and in emitted events, and collisions within one window", () => {
    const b = builder();
    b.push(
      rows([
        [0, 0],
        [0, 0],
        [1, 0],
        [1, 2 * MS],
      ]),
    );
    expect(b.stats).toMatchObject({ duplicates: 1, collisions: 1 });
    b.push(
      rows([
        [2, 0],
        [3, 0],
      ]),
    );
    expect(b.take()!.n).toBe(1);
    b.push(rows([[3, 0]]));
    expect(b.stats.duplicates).toBe(2);
  });

  it("builds reordered events correctly", () => {
    const b = builder();
    b.push(
      rows([
        [0, 100 * MS],
        [1, 100 * MS],
        [0, 0],
        [1, 0],
        [2, 0],
        [2, 100 * MS],
        [3, 100 * MS],
        [3, 0],
      ]),
    );
    const e = b.take()!;
    expect(e.n).toBe(2);
    expect([...e.moduleTimeNs.subarray(0, 4)]).toEqual(Array(4).fill(T0 + BigInt(100 * MS))); // completed first
    expect([...e.moduleTimeNs.subarray(4, 8)]).toEqual(Array(4).fill(T0));
    expect(b.stats).toMatchObject({ complete: 2, late: 0, duplicates: 0 });
  });

  it("bounds open events: one more emits the oldest as partial and counts the overflow", () => {
    const b = builder({ maxOpenEvents: 2 });
    b.push(
      rows([
        [0, 0],
        [0, 100 * MS],
        [0, 200 * MS],
      ]),
    );
    expect(b.stats).toMatchObject({ overflow: 1, partial: 1, open: 2 });
    const e = b.take()!;
    expect(e.moduleTimeNs[0]).toBe(T0);
  });

  it("completes on the expected modules only, keeps others present, flushes all at the end", () => {
    const b = builder({ expectedModules: [0, 1] });
    b.push(
      rows([
        [3, 0],
        [0, 0],
        [1, 0],
        [0, 100 * MS],
      ]),
    );
    let e = b.take()!;
    expect([...e.mask]).toEqual([1, 1, 0, 1]);
    expect(e.complete[0]).toBe(1);
    expect(b.flush()).toBe(1);
    e = b.take()!;
    expect([...e.mask]).toEqual([1, 0, 0, 0]);
    expect(b.stats).toMatchObject({ events: 2, complete: 1, partial: 1 });
  });

  it("counts invalid modules and accounts for every readout", () => {
    const b = builder();
    b.push(
      rows([
        [9, 0],
        [0, 0],
        [0, 0],
        [1, 0],
        [2, 0],
        [3, 0],
        [3, 0],
      ]),
    );
    const s = b.stats;
    let inEvents = 0;
    for (let e = b.take(); e; e = b.take()) inEvents += e.mask.reduce((a, x) => a + x, 0);
    expect(s.invalidModule).toBe(1);
    expect(inEvents + s.late + s.duplicates + s.collisions + s.invalidModule).toBe(s.readouts);
  });

  it("grows its output past 16 pending events without losing any", () => {
    const b = builder({ expectedModules: [0] });
    b.push(rows(Array.from({ length: 40 }, (_, k) => [0, k * 100 * MS] as [number, number])));
    const e = b.take()!;
    expect(e.n).toBe(40);
    expect(e.moduleTimeNs[39 * 4]).toBe(T0 + BigInt(39 * 100 * MS));
    expect(e.fields.v![39 * 8 + 1]).toBe(3900);
  });

  it("rejects a malformed batch and bad options with coded errors", () => {
    const b = builder();
    const r = rows([[0, 0]]);
    let err: unknown;
    try {
      b.push({ ...r, fields: { v: r.fields.v! } });
    } catch (e) {
      err = e;
    }
    expect(isHutchError(err, "HUTCH_ERR_VALIDATION")).toBe(true);
    expect(() => builder({ expectedModules: [4] })).toThrow(/outside 0..3/);
    expect(() => builder({ timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it("builds the same events with the addon's row copy and with TypeScript's", () => {
    if (process.env.CI === "true") expect(nativeAddon?.copyRows).toBeTypeOf("function");
    /** A seeded mix: complete, partial (timeouts, overflow), duplicate, late readouts; a 1-byte field too. */
    const run = (native: boolean): BuiltEvents[] => {
      const was = useNativeRowCopy(native);
      try {
        const clock = fakeClock();
        const b = builder(
          {
            maxOpenEvents: 3,
            fields: [
              { name: "v", dtype: "float32", rowShape: [2] },
              { name: "aux", dtype: "uint64", rowShape: [] },
              { name: "flag", dtype: "uint8", rowShape: [3] },
            ],
          },
          clock,
        );
        let s = 7;
        const rnd = (n: number) => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) % n;
        const out: BuiltEvents[] = [];
        for (let batch = 0; batch < 40; batch++) {
          const list: [number, number][] = [];
          for (let j = rnd(12); j > 0; j--)
            list.push([rnd(5) === 0 ? rnd(4) : j % 4, (batch + rnd(3)) * 20 * MS]);
          const r = rows(list);
          const flag = Uint8Array.from({ length: 3 * list.length }, (_, q) => (q * 31 + batch) & 255);
          b.push({ ...r, fields: { ...r.fields, flag } });
          clock.advance(rnd(60));
          b.poll();
          for (let e = b.take(); e; e = b.take()) out.push(e);
        }
        b.flush();
        for (let e = b.take(); e; e = b.take()) out.push(e);
        return out;
      } finally {
        useNativeRowCopy(was);
      }
    };
    const ts = run(false);
    expect(ts.reduce((a, e) => a + e.n, 0)).toBeGreaterThan(20);
    expect(run(true)).toEqual(ts);
  });
});
