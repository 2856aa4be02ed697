import { describe, expect, it } from "vitest";
import { KeyedRate, RateMeter } from "./rate.js";

const T0 = 1_700_000_000;

describe("RateMeter", () => {
  it("reports the rate of the last complete seconds and a per-second history", () => {
    const r = new RateMeter({ historySec: 5, windowSec: 2 });
    // 10 events in second 0, 20 in second 1, 30 in second 2 (still running at now = 2.5).
    r.addTimes(Float64Array.from({ length: 10 }, (_, i) => T0 + i / 10));
    r.addTimes(Float64Array.from({ length: 20 }, (_, i) => T0 + 1 + i / 20));
    r.add(T0 + 2.1, 30);
    expect(r.rate(T0 + 2.5)).toBe(15);
    expect(r.current(T0 + 2.5)).toBe(30);
    expect([...r.history(T0 + 2.5)]).toEqual([0, 0, 0, 10, 20]);
    expect(r.historyStartSec(T0 + 2.5)).toBe(T0 - 3);
    // Three quiet seconds later the window holds nothing and history has shifted.
    expect(r.rate(T0 + 5.2)).toBe(0);
    expect([...r.history(T0 + 5.2)]).toEqual([10, 20, 30, 0, 0]);
    expect(r.total).toBe(60);
    expect(r.meanRate(T0, T0 + 6)).toBe(10);
  });

  it("counts events older than the history as late (but in the total)", () => {
    const r = new RateMeter({ historySec: 3 });
    r.add(T0 + 10);
    r.add(T0 + 5);
    expect(r.late).toBe(1);
    expect(r.total).toBe(2);
    expect(r.firstTimeSec).toBe(T0 + 5);
  });

  it("clears stale slots after a long gap", () => {
    const r = new RateMeter({ historySec: 3 });
    r.add(T0, 5);
    r.add(T0 + 1000, 1);
    expect([...r.history(T0 + 1001)]).toEqual([0, 0, 1]);
  });

  it("rejects bad options and times with coded errors", () => {
    expect(() => new RateMeter({ historySec: 5, windowSec: 10 })).toThrow(/must not exceed/);
    expect(() => new RateMeter({ historySec: 0 })).toThrow(/historySec/);
    expect(() => new RateMeter().add(NaN)).toThrow(/finite/);
  });
});

describe("KeyedRate", () => {
  it("gives per-key rates over the window and counts bad keys", () => {
    const r = new KeyedRate(4, 2);
    r.add(Int32Array.of(0, 0, 1, 3, 7, -1), T0 + 0.5);
    r.add(Float64Array.of(0, 2, 2.5), Float64Array.of(T0 + 1.2, T0 + 1.3, T0 + 1.4));
    expect([...r.rates(T0 + 2)]).toEqual([1.5, 0.5, 0.5, 0.5]);
    expect(r.invalidKeys).toBe(3);
    expect([...r.rates(T0 + 3)]).toEqual([0.5, 0, 0.5, 0]);
    expect([...r.rates(T0 + 10)]).toEqual([0, 0, 0, 0]);
  });
});
