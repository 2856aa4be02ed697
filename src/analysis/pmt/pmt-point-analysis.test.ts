import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { simulatePmtPulses, writePointFile } from "../../sim/pmt/index.js";
import { hvCheck } from "./hv-check.js";
import { analysePmtPoint } from "./pmt-point-analysis.js";
import { analysePointFile } from "./pmt-point-file.js";

describe("PMT point analysis", () => {
  it("recovers the simulated gain within its error, with a histogram and a fit curve that follows it", () => {
    for (const [gain, seed] of [
      [1.024e7, 1],
      [0.95e7, 2],
      [1.1e7, 3],
    ] as const) {
      const p = simulatePmtPulses(gain, 10_000, seed);
      const r = analysePmtPoint(p.chargePc, p.timeNs);
      expect(r.status).toBe("ok");
      expect(r.converged).toBe(true);
      expect(Math.abs(r.gain - gain)).toBeLessThan(4 * r.gain_err);
      expect(r.gain_err / r.gain).toBeLessThan(0.01);
      expect(r.counts.reduce((a, b) => a + b, 0)).toBe(r.events);
      const fitted = r.curve.reduce((a, b) => a + b, 0);
      expect(Math.abs(fitted - r.events) / r.events).toBeLessThan(0.01);
    }
  });

  it("the time window removes dark hits; without timing cuts the fit would see them", () => {
    const p = simulatePmtPulses(1.024e7, 10_000, 4, { offTimeFraction: 0.5 });
    const r = analysePmtPoint(p.chargePc, p.timeNs);
    const all = analysePmtPoint(p.chargePc, new Float32Array(p.timeNs.length).fill(325));
    expect(r.events).toBeLessThan(0.6 * all.events);
  });

  it("fewer than 10 selected events is no-data with a NaN gain (never 0); the JSON says null", () => {
    const dir = mkdtempSync(join(tmpdir(), "hutch-pmt-"));
    writePointFile(join(dir, "p.npy"), simulatePmtPulses(1.024e7, 8, 5));
    const r = analysePointFile(join(dir, "p.npy"), join(dir, "r.json"), { serial: "EA'1; $(x)", cell: 3 });
    expect(r.status).toBe("no-data");
    expect(r.gain).toBeNaN();
    expect(r.message).toMatch(/need at least 10/);
    const j = JSON.parse(readFileSync(join(dir, "r.json"), "utf8"));
    expect(j).toMatchObject({ status: "no-data", gain: null, cell: 3, serial: "EA'1; $(x)" });
    expect(j.counts).toHaveLength(80);
  });

  it("the HV check finds the voltage of gain 1e7 on a power law", () => {
    const pts = [1600, 1720, 1750, 1780, 1810, 1840].map((hvV) => {
      const gain = 1.024e7 * (hvV / 1800) ** 7;
      const p = simulatePmtPulses(gain, 10_000, hvV);
      const r = analysePmtPoint(p.chargePc, p.timeNs);
      return { hvV, gain: r.gain, gainError: r.gain_err };
    });
    // 1600 V puts the 1 PE peak below 1 pC, outside the fit range: that point has no gain, the others do.
    expect(pts.map((p) => Number.isFinite(p.gain))).toEqual([false, true, true, true, true, true]);
    const h = hvCheck(pts, 1e7);
    const truth = 1800 * (1e7 / 1.024e7) ** (1 / 7);
    expect(Math.abs(h.hvAtTargetV - truth)).toBeLessThan(4 * h.hvAtTargetErrorV + 1);
    expect(Math.abs(h.slope - 7)).toBeLessThan(4 * h.slopeError);
    expect(h.points).toBe(5);
    expect(() => hvCheck(pts.slice(0, 3))).toThrow(/2 voltages with a gain, need at least 3/);
  });
});
