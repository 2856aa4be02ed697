import { describe, expect, it } from "vitest";
import { isHutchError } from "./errors.js";
import { AutoHistogram, Histogram, binIndex } from "./histogram.js";
import { seededRng } from "./stats.js";

describe("Histogram (fixed bins)", () => {
  it("bins half-open ranges and counts under/overflow and NaN", () => {
    const h = new Histogram({ bins: 4, lo: 0, hi: 4 });
    h.fill(Float64Array.of(-1, 0, 0.5, 1, 3.999, 4, 10, NaN));
    expect([...h.counts]).toEqual([2, 1, 0, 1]);
    expect(h.underflow).toBe(1);
    expect(h.overflow).toBe(2);
    expect(h.invalid).toBe(1);
    expect(h.entries).toBe(7);
    expect([...h.edges()]).toEqual([0, 1, 2, 3, 4]);
    expect([...h.centres()]).toEqual([0.5, 1.5, 2.5, 3.5]);
  });

  it("never puts a value just below hi outside the last bin", () => {
    const hi = 0.3;
    const x = 0.29999999999999993;
    expect(binIndex(x, 0.1, hi, 3)).toBe(2);
  });

  it("takes weights and masks, and gives mean and rms of the in-range values", () => {
    const h = new Histogram({ bins: 10, lo: 0, hi: 10 });
    h.fill(Float64Array.of(1, 3, 5, 100), {
      weights: Float64Array.of(1, 1, 2, 1),
      mask: Uint8Array.of(1, 1, 1, 1),
    });
    expect(h.mean).toBe((1 + 3 + 10) / 4);
    expect(h.rms).toBeCloseTo(Math.sqrt((1 + 9 + 50) / 4 - 3.5 ** 2), 12);
    const m = new Histogram({ bins: 10, lo: 0, hi: 10 });
    expect(m.fill(Int32Array.of(1, 2, 3), { mask: Uint8Array.of(1, 0, 1) })).toBe(2);
    expect(m.entries).toBe(2);
  });

  it("with a window keeps exactly the last N values", () => {
    const h = new Histogram({ bins: 8, lo: 0, hi: 8, window: 5 });
    const rng = seededRng(5);
    const xs = Float64Array.from({ length: 103 }, () => Math.floor(rng.uniform() * 10) - 1);
    for (let i = 0; i < xs.length; i += 7) h.fill(xs, { start: i, end: Math.min(xs.length, i + 7) });
    const ref = new Histogram({ bins: 8, lo: 0, hi: 8 });
    ref.fill(xs.subarray(-5));
    expect([...h.counts]).toEqual([...ref.counts]);
    expect(h.underflow).toBe(ref.underflow);
    expect(h.overflow).toBe(ref.overflow);
    expect(h.mean).toBeCloseTo(ref.mean, 12);
    expect(() => h.fill([1], { weights: [2] })).toThrow(/window/);
  });

  it("rejects an unusable binning with a coded error naming it", () => {
    try {
      new Histogram({ bins: 10, lo: 5, hi: 5 });
      expect.unreachable();
    } catch (e) {
      expect(isHutchError(e, "HUTCH_ERR_VALIDATION")).toBe(true);
      expect(String(e)).toMatch(/lo < hi/);
    }
  });
});

describe("AutoHistogram", () => {
  it("sets its range from the first batch and keeps every value when it extends", () => {
    const h = new AutoHistogram({ bins: 16 });
    h.fill(Float64Array.of(1, 2, 3, 4));
    expect(h.lo).toBe(1);
    expect(h.hi).toBeGreaterThan(4);
    const w0 = h.hi - h.lo;
    h.fill(Float64Array.of(20, -30, 2.5));
    expect(h.entries).toBe(7);
    expect(h.lo).toBeLessThanOrEqual(-30);
    expect(h.hi).toBeGreaterThan(20);
    // The width is the first width times a power of two: bins were merged, never re-guessed.
    expect(Math.log2((h.hi - h.lo) / w0) % 1).toBe(0);
  });

  it("extending is exact: equals a fixed histogram over the final range", () => {
    const rng = seededRng(9);
    const xs = Float64Array.from({ length: 5000 }, (_, i) => rng.normal(0, 1 + i / 500));
    const h = new AutoHistogram({ bins: 32 });
    for (let i = 0; i < xs.length; i += 250) h.fill(xs, { start: i, end: i + 250 });
    const ref = new Histogram({ bins: 32, lo: h.lo, hi: h.hi });
    ref.fill(xs);
    expect([...h.counts]).toEqual([...ref.counts]);
    expect(ref.underflow + ref.overflow).toBe(0);
  });

  it("integer mode puts edges at k - 0.5 with integer widths", () => {
    const h = new AutoHistogram({ bins: 4, integer: true });
    h.fill(Uint16Array.of(10, 11, 12, 13));
    expect([...h.edges()]).toEqual([9.5, 10.5, 11.5, 12.5, 13.5]);
    expect([...h.counts]).toEqual([1, 1, 1, 1]);
    h.fill(Uint16Array.of(20));
    expect([...h.edges()]).toEqual([9.5, 13.5, 17.5, 21.5, 25.5]);
    h.fill(Uint16Array.of(21));
    expect([...h.counts]).toEqual([4, 0, 2, 0]);
  });

  it("counts NaN and infinities as invalid and ignores a single constant value gracefully", () => {
    const h = new AutoHistogram({ bins: 8 });
    h.fill(Float64Array.of(NaN, Infinity));
    expect(h.hasRange).toBe(false);
    expect(h.invalid).toBe(2);
    h.fill(Float64Array.of(7, 7, 7));
    expect(h.entries).toBe(3);
    expect(h.lo).toBeLessThan(7);
    expect(h.hi).toBeGreaterThan(7);
    expect(() => new AutoHistogram({ bins: 7 })).toThrow(/even/);
  });
});
