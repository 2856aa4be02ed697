import { describe, expect, it } from "vitest";
import { isHutchError } from "./errors.js";
import {
  RunningArrayStats,
  RunningStats,
  WindowedArrayMean,
  erf,
  erfc,
  logFactorial,
  normalCdf,
  normalInterval,
  seededRng,
} from "./stats.js";

describe("RunningStats", () => {
  it("matches a two-pass computation, one value or one batch at a time", () => {
    const rng = seededRng(1);
    const xs = Float64Array.from({ length: 1000 }, () => rng.normal(5, 2));
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
    const one = new RunningStats();
    for (const x of xs) one.add(x);
    const batched = new RunningStats();
    for (let i = 0; i < xs.length; i += 97) batched.addBatch(xs, undefined, i, Math.min(xs.length, i + 97));
    for (const s of [one, batched]) {
      expect(s.count).toBe(1000);
      expect(s.mean).toBeCloseTo(mean, 12);
      expect(s.variance).toBeCloseTo(variance, 10);
      expect(s.min).toBe(Math.min(...xs));
      expect(s.max).toBe(Math.max(...xs));
    }
  });

  it("keeps precision near a large offset (where sum of squares fails)", () => {
    const s = new RunningStats();
    s.addBatch(Float64Array.of(1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16));
    expect(s.mean).toBe(1e9 + 10);
    expect(s.variance).toBe(30);
  });

  it("skips masked entries and counts non-finite ones", () => {
    const s = new RunningStats();
    s.addBatch(Float64Array.of(1, NaN, 3, 100, Infinity), Uint8Array.of(1, 1, 1, 0, 1));
    expect(s.count).toBe(2);
    expect(s.mean).toBe(2);
    expect(s.invalid).toBe(2);
  });

  it("merges accumulators exactly", () => {
    const a = new RunningStats();
    const b = new RunningStats();
    a.addBatch(Float64Array.of(1, 2, 3));
    b.addBatch(Float64Array.of(10, 20));
    a.merge(b);
    expect(a.count).toBe(5);
    expect(a.mean).toBeCloseTo(7.2, 14);
    expect(a.variance).toBeCloseTo(
      ((1 - 7.2) ** 2 + (2 - 7.2) ** 2 + (3 - 7.2) ** 2 + (10 - 7.2) ** 2 + (20 - 7.2) ** 2) / 4,
      12,
    );
  });
});

describe("frame averages", () => {
  it("RunningArrayStats gives the elementwise mean and variance of frames", () => {
    const a = new RunningArrayStats(3, { withVariance: true });
    const page = Float64Array.of(1, 2, 3, 3, 2, 1, 5, 5, 5);
    for (let f = 0; f < 3; f++) a.add(page, f * 3);
    expect([...a.mean]).toEqual([3, 3, 3]);
    expect([...a.variance()]).toEqual([4, 3, 4]);
    expect(() => a.add(page, 8)).toThrow(/exceeds/);
  });

  it("WindowedArrayMean averages the last N frames and does not drift", () => {
    const w = new WindowedArrayMean(2, 3, "float32");
    const rng = seededRng(7);
    const frames: number[][] = [];
    for (let k = 0; k < 1000; k++) {
      const f = [Math.fround(rng.normal(1000, 300)), Math.fround(rng.normal(0, 1))];
      frames.push(f);
      w.add(f);
    }
    const last = frames.slice(-3);
    const expected = [0, 1].map((i) => last.reduce((s, f) => s + f[i]!, 0) / 3);
    const got = w.mean();
    expect(w.count).toBe(3);
    expect(got[0]).toBeCloseTo(expected[0]!, 9);
    expect(got[1]).toBeCloseTo(expected[1]!, 12);
  });

  it("WindowedArrayMean with fewer frames than the window averages what it has", () => {
    const w = new WindowedArrayMean(1, 10);
    w.add([2]);
    w.add([4]);
    expect([...w.mean()]).toEqual([3]);
  });
});

describe("erf and the normal CDF", () => {
  it("match reference values in the centre and both tails", () => {
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf(-1)).toBeCloseTo(-0.8427007929497149, 14);
    expect(erfc(2.9) / 4.109787809945886e-5).toBeCloseTo(1, 10);
    expect(erfc(3) / 2.209049699858544e-5).toBeCloseTo(1, 10);
    expect(erfc(5) / 1.5374597944280349e-12).toBeCloseTo(1, 10);
    expect(normalCdf(-8) / 6.22096057427178e-16).toBeCloseTo(1, 8);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 14);
    expect(normalInterval(9, 10) / (normalCdf(-9) - normalCdf(-10))).toBeCloseTo(1, 12);
    expect(normalInterval(-1, 1)).toBeCloseTo(0.6826894921370859, 14);
  });
});

describe("seededRng", () => {
  it("repeats with the same seed and has the right moments", () => {
    const a = seededRng(3);
    const b = seededRng(3);
    expect([a.uniform(), a.normal()]).toEqual([b.uniform(), b.normal()]);
    const s = new RunningStats();
    const r = seededRng(11);
    for (let i = 0; i < 20000; i++) s.add(r.normal(2, 3));
    expect(Math.abs(s.mean - 2)).toBeLessThan(0.1);
    expect(Math.abs(s.std - 3)).toBeLessThan(0.1);
  });

  it("draws Poisson numbers with mean and variance lambda, small and large", () => {
    const r = seededRng(13);
    for (const lambda of [0.5, 12, 300, 5000]) {
      const s = new RunningStats();
      for (let i = 0; i < 20000; i++) s.add(r.poisson(lambda));
      expect(Math.abs(s.mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / 20000));
      expect(s.variance / lambda).toBeGreaterThan(0.95);
      expect(s.variance / lambda).toBeLessThan(1.05);
    }
    expect(logFactorial(25)).toBeCloseTo(Math.log(15511210043330985984000000), 10);
    expect(() => r.poisson(-1)).toThrow(/poisson mean/);
  });

  it("rejects unusable sizes with a coded error", () => {
    try {
      new WindowedArrayMean(4, 0);
      expect.unreachable();
    } catch (e) {
      expect(isHutchError(e, "HUTCH_ERR_VALIDATION")).toBe(true);
    }
  });
});
