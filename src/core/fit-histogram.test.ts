import { describe, expect, it } from "vitest";
import { isHutchError } from "./errors.js";
import { fitHistogram, gaussianModel, modelCurve, twoGaussianModel } from "./fit-histogram.js";
import { Histogram } from "./histogram.js";
import { RunningStats, seededRng, type Rng } from "./stats.js";

function gaussHist(rng: Rng, n: number, mean: number, std: number): Histogram {
  const h = new Histogram({ bins: 60, lo: 0, hi: 10 });
  // A Poisson number of events, as in a real run: the yield's error includes that fluctuation.
  const xs = Float64Array.from({ length: rng.poisson(n) }, () => rng.normal(mean, std));
  h.fill(xs);
  return h;
}

/** Pull mean and width over repeated fits of fresh samples. */
function pulls(
  trials: number,
  fit: (rng: Rng) => { params: Float64Array; errors: Float64Array },
  truth: number[],
  seed: number,
): RunningStats[] {
  const rng = seededRng(seed);
  const out = truth.map(() => new RunningStats());
  for (let t = 0; t < trials; t++) {
    const r = fit(rng);
    truth.forEach((v, k) => out[k]!.add((r.params[k]! - v) / r.errors[k]!));
  }
  return out;
}

describe("fitHistogram: Gaussian", () => {
  it("recovers N, mu, sigma of a 10k-event histogram within errors, converged, chi2/ndf near 1", () => {
    const h = gaussHist(seededRng(1), 10000, 4.2, 1.3);
    const r = fitHistogram(h.counts, h.edges(), gaussianModel);
    expect(r.converged).toBe(true);
    expect(r.names).toEqual(["N", "mu", "sigma"]);
    expect(Math.abs(r.params[0]! - 10000)).toBeLessThan(4 * r.errors[0]!);
    expect(Math.abs(r.params[1]! - 4.2)).toBeLessThan(4 * r.errors[1]!);
    expect(Math.abs(r.params[2]! - 1.3)).toBeLessThan(4 * r.errors[2]!);
    expect(r.errors[1]).toBeCloseTo(1.3 / 100, 3);
    expect(r.chi2 / r.ndf).toBeGreaterThan(0.5);
    expect(r.chi2 / r.ndf).toBeLessThan(1.6);
  });

  it("gives pulls of mean ~0 and width ~1 over 200 fits, even with few counts per bin", () => {
    const ps = pulls(
      200,
      (rng) => {
        const h = gaussHist(rng, 300, 5, 1.5);
        return fitHistogram(h.counts, h.edges(), gaussianModel);
      },
      [300, 5, 1.5],
      77,
    );
    for (const p of ps) {
      expect(Math.abs(p.mean)).toBeLessThan(0.25);
      expect(Math.abs(p.std - 1)).toBeLessThan(0.15);
    }
  });

  it("fits only inside a range, and with neyman weighting too", () => {
    const h = gaussHist(seededRng(3), 20000, 5, 1);
    const r = fitHistogram(h.counts, h.edges(), gaussianModel, { range: [3, 7] });
    expect(r.ndf).toBe(24 - 3);
    expect(Math.abs(r.params[1]! - 5)).toBeLessThan(4 * r.errors[1]!);
    const ney = fitHistogram(h.counts, h.edges(), gaussianModel, { method: "neyman" });
    expect(ney.converged).toBe(true);
    expect(Math.abs(ney.params[1]! - 5)).toBeLessThan(4 * ney.errors[1]!);
  });

  it("modelCurve gives the expected counts per bin for an overlay", () => {
    const edges = Float64Array.of(-1e3, 0, 1e3);
    expect([...modelCurve(gaussianModel, edges, [100, 0, 1])].map((v) => +v.toFixed(9))).toEqual([50, 50]);
  });

  it("refuses bad input with a coded error that names the problem", () => {
    const e = [0, 1, 2, 3];
    expect(() => fitHistogram([1, 2], e, gaussianModel)).toThrow(/2 bins need 3 edges, got 4/);
    expect(() => fitHistogram([1, -2, 3], e, gaussianModel)).toThrow(/bin 1 has count -2/);
    expect(() => fitHistogram([1, 2, 3], [0, 2, 1, 3], gaussianModel)).toThrow(/edges must increase/);
    try {
      fitHistogram([0, 5, 0], e, gaussianModel);
      expect.unreachable();
    } catch (err) {
      expect(isHutchError(err, "HUTCH_ERR_VALIDATION")).toBe(true);
      expect(String(err)).toMatch(/1 non-empty bins cannot determine 3 parameters/);
    }
  });
});

describe("fitHistogram: two Gaussians", () => {
  function twoPeaks(rng: Rng, n1: number, n2: number): Histogram {
    const h = new Histogram({ bins: 80, lo: 0, hi: 5 });
    h.fill(Float64Array.from({ length: rng.poisson(n1) }, () => rng.normal(1.6, 0.35)));
    h.fill(Float64Array.from({ length: rng.poisson(n2) }, () => rng.normal(3.2, 0.5)));
    return h;
  }

  it("with free means recovers both peaks within errors", () => {
    const h = twoPeaks(seededRng(5), 7000, 3000);
    const r = fitHistogram(h.counts, h.edges(), twoGaussianModel());
    expect(r.converged).toBe(true);
    const truth = [7000, 1.6, 0.35, 3000, 3.2, 0.5];
    truth.forEach((v, k) => expect(Math.abs(r.params[k]! - v)).toBeLessThan(4 * r.errors[k]!));
  });

  it("with mu2 = 2 mu1 gives correct errors (pull width over 150 fits)", () => {
    const ps = pulls(
      150,
      (rng) => {
        const h = twoPeaks(rng, 1400, 600);
        const r = fitHistogram(h.counts, h.edges(), twoGaussianModel({ meanRatio: 2 }));
        expect(r.converged).toBe(true);
        return r;
      },
      [1400, 1.6, 0.35, 600, 0.5],
      99,
    );
    for (const p of ps) {
      expect(Math.abs(p.mean)).toBeLessThan(0.3);
      expect(Math.abs(p.std - 1)).toBeLessThan(0.18);
    }
  });
});
