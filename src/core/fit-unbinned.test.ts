import { describe, expect, it } from "vitest";
import { isHutchError } from "./errors.js";
import { ELEMENTARY_CHARGE_C, fitTwoGaussianUnbinned, gainFromCharge, pmtGain } from "./fit-unbinned.js";
import { RunningStats, seededRng, type Rng } from "./stats.js";

/** Simulated PMT charges (pC): pedestal near 0, 1 PE at mu1, 2 PE at 2 mu1; Poisson numbers of each. */
function charges(rng: Rng, mu1: number, n1: number, n2: number, pedestal = 0): Float64Array {
  const out: number[] = [];
  for (let i = rng.poisson(pedestal); i > 0; i--) out.push(rng.normal(0, 0.1));
  for (let i = rng.poisson(n1); i > 0; i--) out.push(rng.normal(mu1, 0.3 * mu1));
  for (let i = rng.poisson(n2); i > 0; i--) out.push(rng.normal(2 * mu1, 0.3 * mu1 * Math.SQRT2));
  return Float64Array.from(out);
}

/** Yields of each Gaussian inside the window [lo, hi] (the fit's N1, N2 are yields inside the window). */
function inWindow(n: number, m: number, s: number, lo: number, hi: number): number {
  const cdf = (x: number) => 0.5 * (1 + erfApprox((x - m) / (s * Math.SQRT2)));
  return n * (cdf(hi) - cdf(lo));
}
function erfApprox(x: number): number {
  // Abramowitz-Stegun 7.1.26 is plenty for the truth of a test (1.5e-7).
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

describe("fitTwoGaussianUnbinned", () => {
  it("recovers mu1 of a 1 PE + 2 PE sample in a window, converged, with a sensible NLL", () => {
    const q = charges(seededRng(1), 1.6, 7000, 2000, 3000);
    const r = fitTwoGaussianUnbinned(q, { window: [0.5, 4.5], mu1Range: [1, 2] });
    expect(r.converged).toBe(true);
    expect(r.names).toEqual(["N1", "mu1", "sigma1", "N2", "sigma2"]);
    expect(Math.abs(r.params[1]! - 1.6)).toBeLessThan(4 * r.errors[1]!);
    expect(Math.abs(r.params[2]! - 0.48)).toBeLessThan(4 * r.errors[2]!);
    expect(r.params[0]! + r.params[3]!).toBeCloseTo(r.events, 3); // extended ML: yields sum to n
    expect(Number.isFinite(r.nll)).toBe(true);
    expect(r.ndf).toBe(0);
  });

  it("errors are right: pulls of every parameter have width ~1 over 120 fits", () => {
    const rng = seededRng(42);
    const [lo, hi] = [0.5, 4.5];
    const truth = [
      inWindow(1500, 1.5, 0.45, lo, hi),
      1.5,
      0.45,
      inWindow(500, 3, 0.45 * Math.SQRT2, lo, hi),
      0.45 * Math.SQRT2,
    ];
    const pulls = truth.map(() => new RunningStats());
    for (let t = 0; t < 120; t++) {
      const r = fitTwoGaussianUnbinned(charges(rng, 1.5, 1500, 500), { window: [lo, hi], mu1Range: [1, 2] });
      expect(r.converged).toBe(true);
      truth.forEach((v, k) => pulls[k]!.add((r.params[k]! - v) / r.errors[k]!));
    }
    for (const p of pulls) {
      expect(Math.abs(p.mean)).toBeLessThan(0.3);
      expect(Math.abs(p.std - 1)).toBeLessThan(0.2);
    }
  });

  it("fits with a free second mean", () => {
    const rng = seededRng(8);
    const q = Float64Array.from(
      [...Array(3000)].map((_, i) => (i % 3 === 0 ? rng.normal(5, 1) : rng.normal(-1, 0.5))),
    );
    const r = fitTwoGaussianUnbinned(q, { meanRatio: null, mu1Range: [-3, 2] });
    expect(r.converged).toBe(true);
    expect(Math.abs(r.params[1]! + 1)).toBeLessThan(4 * r.errors[1]!);
    expect(Math.abs(r.params[4]! - 5)).toBeLessThan(4 * r.errors[4]!);
  });

  it("refuses bad input with a coded error naming the problem", () => {
    expect(() => fitTwoGaussianUnbinned([1, 2, NaN])).toThrow(/value 2 is NaN/);
    expect(() => fitTwoGaussianUnbinned([1, 2, 3], { window: [2, 1] })).toThrow(/window \[2, 1\] is empty/);
    try {
      fitTwoGaussianUnbinned([1, 2, 3, 4, 5]);
      expect.unreachable();
    } catch (e) {
      expect(isHutchError(e, "HUTCH_ERR_VALIDATION")).toBe(true);
      expect(String(e)).toMatch(/5 values inside .* need at least 10/);
    }
  });
});

describe("pmtGain (R12860)", () => {
  it("gain = mu1[pC] x 1e-12 / e", () => {
    expect(gainFromCharge(1.602176634)).toBeCloseTo(1e7, 6);
    expect(ELEMENTARY_CHARGE_C).toBe(1.602176634e-19);
  });

  it("recovers the simulated gain within its error after the selection cuts", () => {
    const rng = seededRng(5);
    const mu1 = 1.65;
    const q = charges(rng, mu1, 4000, 1200, 2000);
    const times = Float64Array.from(q, () => (rng.uniform() < 0.9 ? 325 + rng.normal(0, 1) : 100));
    const g = pmtGain(q, { timesNs: times });
    expect(g.status).toBe("ok");
    if (g.status !== "ok") return;
    expect(Math.abs(g.gain - gainFromCharge(mu1))).toBeLessThan(4 * g.gainError);
    expect(g.events).toBeLessThan(q.length);
    expect(g.fit.converged).toBe(true);
  });

  it("fewer than 10 selected events is no-data, never a gain of 0", () => {
    const g = pmtGain(Float64Array.of(1.5, 1.6, 1.7, 0.1, 9, NaN));
    expect(g).toEqual({ status: "no-data", events: 3, reason: "3 events selected, need at least 10" });
    expect(() => pmtGain([1, 2], { timesNs: [325] })).toThrow(/2 charges but 1 times/);
  });
});
