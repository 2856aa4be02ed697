import { afterEach, describe, expect, it } from "vitest";
import { AutoHistogram, Histogram, nd, seededRng, type FieldSpec } from "../src/core/index.js";
import { histogramNode } from "../src/analysis/histogram-node.js";
import {
  capture,
  eventsOf,
  hostStage,
  pageOf,
  sourceStream,
  type StageHarness,
} from "./helpers/analysis-context.js";

let h: StageHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const adcFields: Record<string, FieldSpec> = {
  adc: { dtype: "uint16", shape: [] },
  chip: { dtype: "float64", shape: [] },
};

describe("histogram stage", () => {
  it("fills fixed bins from pages and publishes counts exactly, once per page with publishIntervalMs 0", async () => {
    h = await hostStage(
      histogramNode,
      { input: "packets", field: "adc", bins: 4, range: [0, 8], publishIntervalMs: 0 },
      { name: "adc-hist" },
    );
    const out = capture(h.bus, "test/adc-hist/");
    const run = await h.start();
    const src = sourceStream(run, "packets", adcFields);
    await h.bus.publish(src.descriptor);
    await h.bus.publish(pageOf(src, [1, 2, 3], { adc: nd(Uint16Array.of(0, 3, 9)), chip: [1, 1, 1] }));
    await h.bus.publish(pageOf(src, [4, 5], { adc: nd(Uint16Array.of(7, 7)), chip: [1, 1] }));
    await h.stop();
    const docs = await out.drain();
    expect(docs[0]!.kind).toBe("descriptor");
    const ev = eventsOf(docs, "adc-hist");
    expect(ev.length).toBe(3); // after each page, and the final one at stop
    const last = ev.at(-1)!.data;
    expect([...(last.counts as { data: Float64Array }).data]).toEqual([1, 1, 0, 2]);
    expect([...(last.edges as { data: Float64Array }).data]).toEqual([0, 2, 4, 6, 8]);
    expect(last.entries).toBe(5);
    expect(last.overflow).toBe(1);
    expect(last.mean).toBeCloseTo((0 + 3 + 9 + 7 + 7) / 5, 12);
    expect(h.counters.get("received")).toBe(5);
    expect(h.counters.get("batches")).toBe(2);
    expect(h.failures).toEqual([]);
  });

  it("auto bins equal a direct computation; cuts select events", async () => {
    h = await hostStage(histogramNode, {
      input: "packets",
      field: "adc",
      bins: 16,
      cuts: [{ field: "chip", ge: 2 }],
      publishIntervalMs: 60_000,
    });
    const out = capture(h.bus, "test/histogram/");
    const run = await h.start();
    const src = sourceStream(run, "packets", adcFields);
    const rng = seededRng(3);
    const ref = new AutoHistogram({ bins: 16 });
    for (let p = 0; p < 10; p++) {
      const adc = Float64Array.from({ length: 50 }, () => Math.round(rng.normal(300 + p * 20, 30)));
      const chip = Float64Array.from({ length: 50 }, (_, i) => i % 3);
      ref.fill(adc, { mask: Uint8Array.from(chip, (c) => (c >= 2 ? 1 : 0)) });
      await h.bus.publish(
        pageOf(
          src,
          Float64Array.from(adc, (_, i) => p + i / 100),
          { adc: nd(adc), chip: nd(chip) },
        ),
      );
    }
    await h.stop();
    const ev = eventsOf(await out.drain(), "histogram");
    expect(ev.length).toBe(1);
    const d = ev[0]!.data;
    expect([...(d.counts as { data: Float64Array }).data]).toEqual([...ref.counts]);
    expect([...(d.edges as { data: Float64Array }).data]).toEqual([...ref.edges()]);
    expect(d.entries).toBe(ref.entries);
  });

  it("a window histograms the last N values over every element of array fields", async () => {
    h = await hostStage(histogramNode, {
      input: "wf",
      field: "samples",
      bins: 10,
      range: [0, 10],
      window: 6,
      publishIntervalMs: 0,
    });
    const out = capture(h.bus, "test/histogram/");
    const run = await h.start();
    const src = sourceStream(run, "wf", { samples: { dtype: "float32", shape: [3] } });
    await h.bus.publish(pageOf(src, [1, 2], { samples: nd(Float32Array.of(1, 1, 1, 2, 2, 2), [2, 3]) }));
    await h.bus.publish(pageOf(src, [3], { samples: nd(Float32Array.of(5, 5, 5), [1, 3]) }));
    await h.stop();
    const last = eventsOf(await out.drain(), "histogram").at(-1)!.data;
    const ref = new Histogram({ bins: 10, lo: 0, hi: 10 });
    ref.fill([2, 2, 2, 5, 5, 5]);
    expect([...(last.counts as { data: Float64Array }).data]).toEqual([...ref.counts]);
    expect(last.mean).toBe(3.5);
  });

  it("refuses bad params with messages that name the problem", () => {
    const bad = (p: unknown) => {
      const r = histogramNode.params.safeParse(p);
      return r.success ? "" : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    };
    expect(bad({ input: "x", field: "adc", bins: 7 })).toMatch(
      /bins: auto-binned histograms \(no range\) need an even number of bins/,
    );
    expect(bad({ input: "x", field: "adc", range: [5, 1] })).toMatch(/range must be \[lo, hi\] with lo < hi/);
    expect(bad({ input: "x", field: "adc", window: 10 })).toMatch(/window: window needs a fixed range/);
    expect(bad({ input: "a b", field: "adc" })).toMatch(/input: a stream name/);
    expect(bad({ input: "x", field: "adc", overflow: "block" })).toMatch(/monitors never block/);
  });
});
