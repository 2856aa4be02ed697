import { describe, expect, it } from "vitest";
import { isHutchError } from "./errors.js";
import { fitCurve, fitLine, invertSpd } from "./fit.js";
import { RunningStats, seededRng } from "./stats.js";

const expDecay = (x: number, p: Float64Array) => p[0]! * Math.exp(-x / p[1]!);

describe("fitCurve (weighted Levenberg-Marquardt)", () => {
  it("recovers parameters within errors, and the errors are right (pull width over repeated fits)", () => {
    const rng = seededRng(21);
    const x = Float64Array.from({ length: 30 }, (_, i) => i * 0.5);
    const sigma = Float64Array.from(x, (v) => 0.2 + 0.05 * v);
    const truth = [10, 4];
    const pulls = [new RunningStats(), new RunningStats()];
    const chi2ndf = new RunningStats();
    for (let trial = 0; trial < 300; trial++) {
      const y = Float64Array.from(x, (v, i) => 10 * Math.exp(-v / 4) + rng.normal(0, sigma[i]!));
      const r = fitCurve(x, y, expDecay, [5, 2], { sigma, names: ["A", "tau"] });
      expect(r.converged).toBe(true);
      for (let k = 0; k < 2; k++) pulls[k]!.add((r.params[k]! - truth[k]!) / r.errors[k]!);
      chi2ndf.add(r.chi2 / r.ndf);
    }
    for (const p of pulls) {
      expect(Math.abs(p.mean)).toBeLessThan(0.2);
      expect(Math.abs(p.std - 1)).toBeLessThan(0.12);
    }
    expect(Math.abs(chi2ndf.mean - 1)).toBeLessThan(0.05);
  });

  it("uses an analytic jacobian when given and honours bounds", () => {
    const x = [0, 1, 2, 3, 4, 5];
    const y = x.map((v) => 2 * v + 1);
    const r = fitCurve(x, y, (v, p) => p[0]! * v + p[1]!, [0, 0], {
      jacobian: (v, _p, out) => {
        out[0] = v;
        out[1] = 1;
      },
      upper: [1.5, Infinity],
    });
    expect(r.params[0]).toBe(1.5);
    expect(r.atBound).toEqual(["p0"]);
  });

  it("scales errors by chi2/ndf without sigmas", () => {
    const rng = seededRng(4);
    const x = Float64Array.from({ length: 200 }, (_, i) => i / 20);
    const y = Float64Array.from(x, (v) => 3 - 0.5 * v + rng.normal(0, 0.3));
    const r = fitCurve(x, y, (v, p) => p[0]! + p[1]! * v, [0, 0]);
    const line = fitLine(x, y);
    // Same minimum to a tiny fraction of the error, and the same (chi2/ndf-scaled) error.
    expect(Math.abs(r.params[1]! - line.slope)).toBeLessThan(1e-3 * line.slopeError);
    expect(r.errors[1]! / line.slopeError).toBeCloseTo(1, 4);
    expect(r.errors[1]).toBeGreaterThan(0.005);
  });

  it("rejects bad input with a coded error naming the problem", () => {
    const bad = () => fitCurve([0, 1, 2], [1, NaN, 3], (v, p) => p[0]! * v, [1]);
    expect(bad).toThrow(/point 1 has x=1, y=NaN/);
    try {
      fitCurve([0, 1], [1, 2], (v, p) => p[0]! * v + p[1]!, [1, 1]);
      expect.unreachable();
    } catch (e) {
      expect(isHutchError(e, "HUTCH_ERR_VALIDATION")).toBe(true);
      expect(String(e)).toMatch(/2 points cannot determine 2 parameters/);
    }
  });
});

describe("fitLine", () => {
  it("fits log10(gain) vs log10(HV) and gives the HV for a target gain", () => {
    const hv = [1200, 1300, 1400, 1500, 1600];
    const gain = hv.map((v) => 1e7 * (v / 1400) ** 7.5);
    const r = fitLine(
      hv.map(Math.log10),
      gain.map(Math.log10),
      hv.map(() => 0.01),
    );
    expect(r.slope).toBeCloseTo(7.5, 10);
    expect(10 ** ((7 - r.intercept) / r.slope)).toBeCloseTo(1400, 6);
    expect(r.ndf).toBe(3);
    expect(r.chi2).toBeLessThan(1e-12);
  });

  it("refuses fewer than 3 points and equal x", () => {
    expect(() => fitLine([1, 2], [1, 2])).toThrow(/at least 3 points/);
    expect(() => fitLine([1, 1, 1], [1, 2, 3])).toThrow(/all x are equal/);
  });
});

describe("invertSpd", () => {
  it("inverts a symmetric positive-definite matrix and refuses a singular one", () => {
    const inv = invertSpd([4, 2, 2, 3], 2)!;
    expect([...inv].map((v) => +v.toFixed(12))).toEqual([0.375, -0.25, -0.25, 0.5]);
    expect(invertSpd([1, 1, 1, 1], 2)).toBeUndefined();
  });
});
