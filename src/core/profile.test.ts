import { describe, expect, it } from "vitest";
import { Profile } from "./profile.js";
import { seededRng } from "./stats.js";

describe("Profile (bin-by)", () => {
  it("gives per-bin count, mean, std and error of the mean", () => {
    const p = new Profile({ bins: 2, lo: 0, hi: 2 });
    p.fill(Float64Array.of(0.1, 0.2, 0.3, 1.5, 5, -1), Float64Array.of(1, 2, 3, 10, 99, 99));
    const r = p.result();
    expect([...r.centres]).toEqual([0.5, 1.5]);
    expect([...r.counts]).toEqual([3, 1]);
    expect([...r.mean]).toEqual([2, 10]);
    expect(r.std[0]).toBe(1);
    expect(r.sem[0]).toBeCloseTo(1 / Math.sqrt(3), 14);
    expect(r.std[1]).toBeNaN();
    expect(p.overflow).toBe(1);
    expect(p.underflow).toBe(1);
  });

  it("matches a direct computation on random data, filled in batches with a mask", () => {
    const rng = seededRng(2);
    const n = 4000;
    const x = Float64Array.from({ length: n }, () => rng.uniform() * 5 - 2);
    const y = Float64Array.from(x, (v) => 3 * v + rng.normal(0, 0.5));
    const mask = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1));
    const p = new Profile({ bins: 40, lo: -2, hi: 3 });
    for (let i = 0; i < n; i += 333) p.fill(x, y, { mask, start: i, end: Math.min(n, i + 333) });
    const r = p.result();
    for (const b of [0, 17, 39]) {
      const ys: number[] = [];
      for (let i = 0; i < n; i++) if (mask[i] && Math.floor((x[i]! + 2) / 0.125) === b) ys.push(y[i]!);
      const m = ys.reduce((a, v) => a + v, 0) / ys.length;
      const sd = Math.sqrt(ys.reduce((a, v) => a + (v - m) ** 2, 0) / (ys.length - 1));
      expect(r.counts[b]).toBe(ys.length);
      expect(r.mean[b]).toBeCloseTo(m, 12);
      expect(r.sem[b]).toBeCloseTo(sd / Math.sqrt(ys.length), 12);
    }
  });

  it("counts NaN pairs as invalid and refuses mismatched lengths", () => {
    const p = new Profile({ bins: 1, lo: 0, hi: 1 });
    p.fill([0.5, NaN, 0.5], [1, 1, NaN]);
    expect(p.invalid).toBe(2);
    expect(() => p.fill([1, 2], [1])).toThrow(/x has 2 values but y has 1/);
  });
});
