import { afterEach, describe, expect, it } from "vitest";
import {
  Histogram,
  fitHistogram,
  gainFromCharge,
  gaussianModel,
  nd,
  pmtGain,
  seededRng,
  type FieldSpec,
} from "../src/core/index.js";
import { fitNode } from "../src/analysis/fit-node.js";
import { histogramNode } from "../src/analysis/histogram-node.js";
import {
  capture,
  eventsOf,
  hostStage,
  pageOf,
  sourceStream,
  type StageHarness,
} from "./helpers/analysis-context.js";
import { InprocBus } from "../src/transport/index.js";

const open: StageHarness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

const arr = (v: unknown) => [...(v as { data: Float64Array }).data];

describe("fit stage on a histogram stream", () => {
  it("fits the histogram stage's output: parameters, errors, convergence and the curve match a direct fit", async () => {
    const bus = new InprocBus("test");
    const hist = await hostStage(
      histogramNode,
      { input: "pulses", field: "q", bins: 50, range: [0, 10], publishIntervalMs: 0 },
      { bus, name: "qhist" },
    );
    const fit = await hostStage(
      fitNode,
      { input: "qhist", model: "gauss", publishIntervalMs: 60_000 },
      { bus, name: "qfit" },
    );
    open.push(hist, fit);
    const out = capture(bus, "test/qfit/");
    const run = await hist.start();
    fit.run = run;
    await fit.hooks.start!(run.info, fit.ctx);
    const src = sourceStream(run, "pulses", { q: { dtype: "float64", shape: [] } });
    const rng = seededRng(8);
    const all = new Histogram({ bins: 50, lo: 0, hi: 10 });
    for (let p = 0; p < 5; p++) {
      const q = Float64Array.from({ length: 2000 }, () => rng.normal(4, 1.2));
      all.fill(q);
      await bus.publish(
        pageOf(
          src,
          Float64Array.from(q, (_, i) => p + i * 1e-4),
          { q: nd(q) },
        ),
      );
    }
    await hist.hooks.stop!(hist.ctx);
    await fit.stop();
    const d = eventsOf(await out.drain(), "qfit").at(-1)!.data;
    const ref = fitHistogram(all.counts, all.edges(), gaussianModel);
    expect(d.status).toBe("ok");
    expect(d.converged).toBe(true);
    expect(d.mu).toBeCloseTo(ref.params[1]!, 6);
    expect(d.mu_err).toBeCloseTo(ref.errors[1]!, 6);
    expect(d.sigma).toBeCloseTo(ref.params[2]!, 6);
    expect(d.ndf).toBe(ref.ndf);
    expect(Math.abs((d.mu as number) - 4)).toBeLessThan(4 * (d.mu_err as number));
    const curve = arr(d.curve);
    expect(curve.length).toBe(50);
    expect(curve.reduce((a, b) => a + b, 0)).toBeCloseTo(10000, -2);
    expect(d.entries).toBe(all.counts.reduce((a, b) => a + b, 0));
  });

  it("two Gaussians with mu2 = 2 mu1 and a bound; an almost empty histogram is no-data, not a failure", async () => {
    const h = await hostStage(fitNode, {
      input: "h",
      model: "two-gauss",
      meanRatio: 2,
      lower: { mu1: 1 },
      upper: { mu1: 2 },
      publishIntervalMs: 0,
    });
    open.push(h);
    const out = capture(h.bus, "test/fit/");
    const run = await h.start();
    const src = sourceStream(run, "h", {
      counts: { dtype: "float64", shape: [60] },
      edges: { dtype: "float64", shape: [61] },
    });
    const rng = seededRng(12);
    const hist = new Histogram({ bins: 60, lo: 0, hi: 6 });
    hist.fill(Float64Array.from({ length: 6000 }, () => rng.normal(1.5, 0.4)));
    hist.fill(Float64Array.from({ length: 2000 }, () => rng.normal(3, 0.55)));
    const edges = hist.edges();
    await h.bus.publish(
      pageOf(src, [1], { counts: nd(hist.counts.slice(), [1, 60]), edges: nd(edges, [1, 61]) }),
    );
    const sparse = new Float64Array(60);
    sparse[10] = 3;
    await h.bus.publish(pageOf(src, [2], { counts: nd(sparse, [1, 60]), edges: nd(edges, [1, 61]) }));
    await h.stop();
    const ev = eventsOf(await out.drain(), "fit");
    const ok = ev[0]!.data;
    expect(ok.status).toBe("ok");
    expect(Math.abs((ok.mu1 as number) - 1.5)).toBeLessThan(4 * (ok.mu1_err as number));
    expect(Math.abs((ok.sigma2 as number) - 0.55)).toBeLessThan(4 * (ok.sigma2_err as number));
    const none = ev[1]!.data;
    expect(none.status).toBe("no-data");
    expect(none.converged).toBe(false);
    expect(none.mu1).toBeNaN();
    expect(h.failures).toEqual([]);
  });

  it("refuses bounds on parameters the model does not have", () => {
    const r = fitNode.params.safeParse({ input: "h", model: "gauss", lower: { mu1: 1 } });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toBe("no parameter 'mu1' in model gauss (N, mu, sigma)");
  });
});

describe("fit stage: PMT gain", () => {
  const fields: Record<string, FieldSpec> = {
    charge: { dtype: "float64", shape: [] },
    dt: { dtype: "float64", shape: [] },
  };

  it("gives the gain of pmtGain on the same selected charges, with its error, and the charge histogram", async () => {
    const h = await hostStage(fitNode, {
      input: "pmt",
      model: "pmt-gain",
      time: "dt",
      publishIntervalMs: 60_000,
    });
    open.push(h);
    const out = capture(h.bus, "test/fit/");
    const run = await h.start();
    const src = sourceStream(run, "pmt", fields);
    const rng = seededRng(31);
    const mu1 = 1.62;
    const q: number[] = [];
    const t: number[] = [];
    for (let i = 0; i < 6000; i++) {
      const r = rng.uniform();
      q.push(r < 0.3 ? rng.normal(0, 0.1) : r < 0.85 ? rng.normal(mu1, 0.45) : rng.normal(2 * mu1, 0.64));
      t.push(rng.uniform() < 0.95 ? rng.normal(325.5, 1) : rng.uniform() * 500);
    }
    for (let k = 0; k < 6000; k += 1000) {
      await h.bus.publish(
        pageOf(
          src,
          q.slice(k, k + 1000).map((_, i) => k + i),
          { charge: q.slice(k, k + 1000), dt: t.slice(k, k + 1000) },
        ),
      );
    }
    await h.stop();
    const d = eventsOf(await out.drain(), "fit").at(-1)!.data;
    const ref = pmtGain(q, { timesNs: t });
    if (ref.status !== "ok") throw new Error(ref.status);
    expect(d.status).toBe("ok");
    expect(d.gain).toBe(ref.gain);
    expect(d.gain_err).toBe(ref.gainError);
    expect(Math.abs((d.gain as number) - gainFromCharge(mu1))).toBeLessThan(4 * (d.gain_err as number));
    expect(arr(d.counts).reduce((a, b) => a + b, 0)).toBe(ref.events);
    expect(arr(d.curve).reduce((a, b) => a + b, 0)).toBeCloseTo(ref.events, 0);
  });

  it("fewer than 10 selected events publishes status no-data with gain NaN, never 0", async () => {
    const h = await hostStage(fitNode, { input: "pmt", model: "pmt-gain", publishIntervalMs: 0 });
    open.push(h);
    const out = capture(h.bus, "test/fit/");
    const run = await h.start();
    const src = sourceStream(run, "pmt", fields);
    await h.bus.publish(pageOf(src, [1, 2, 3], { charge: [1.5, 1.6, 0.2], dt: [325, 325, 325] }));
    await h.stop();
    const d = eventsOf(await out.drain(), "fit").at(-1)!.data;
    expect(d.status).toBe("no-data");
    expect(d.gain).toBeNaN();
    expect(d.entries).toBe(2);
  });
});
