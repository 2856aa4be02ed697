import { afterEach, describe, expect, it } from "vitest";
import { centreOfMass, nd, seededRng, type FieldSpec } from "../src/core/index.js";
import { averageNode } from "../src/analysis/average-node.js";
import { binByNode } from "../src/analysis/bin-by-node.js";
import { normaliseNode } from "../src/analysis/normalise-node.js";
import {
  capture,
  eventsOf,
  hostStage,
  pageOf,
  pagesOf,
  sourceStream,
  until,
  type StageHarness,
} from "./helpers/analysis-context.js";

const open: StageHarness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

const arr = (v: unknown) => [...(v as { data: Float64Array | Float32Array }).data];
const shots: Record<string, FieldSpec> = {
  roi: { dtype: "float64", shape: [] },
  i0: { dtype: "float64", shape: [] },
  beam: { dtype: "float64", shape: [] },
  motor: { dtype: "float64", shape: [] },
};

describe("normalise stage", () => {
  it("divides per event, applies the shot filter and the denominator guard, carries fields, counts rejects", async () => {
    const h = await hostStage(normaliseNode, {
      input: "shots",
      field: "roi",
      by: "i0",
      carry: ["motor"],
      minAbsDenominator: 0,
      cuts: [
        { field: "beam", gt: 0 },
        { field: "i0", gt: 0.01 },
      ],
      publishIntervalMs: 60_000,
    });
    open.push(h);
    const out = capture(h.bus, "test/normalise/");
    const run = await h.start();
    const src = sourceStream(run, "shots", shots);
    await h.bus.publish(
      pageOf(src, [1, 2, 3, 4, 5], {
        roi: [10, 20, 30, 40, 50],
        i0: [2, 0.005, 4, 5, NaN],
        beam: [1, 1, 0, 1, 1],
        motor: [100, 200, 300, 400, 500],
      }),
    );
    await h.stop();
    const p = pagesOf(await out.drain(), "normalise")[0]!;
    expect([...p.time.data]).toEqual([1, 4]);
    expect(arr(p.data.roi_over_i0)).toEqual([5, 8]);
    expect(arr(p.data.motor)).toEqual([100, 400]);
    expect(h.counters.get("rejected")).toBe(3);
  });
});

describe("bin-by stage", () => {
  it("matches a direct computation of ROI/I0 vs delay (40 bins over -2..3 ps, delay = pos * scale - t0)", async () => {
    const scale = 6.666e-3;
    const t0 = 10;
    const h = await hostStage(binByNode, {
      input: "norm",
      x: "motor",
      y: "ratio",
      xScale: scale,
      xOffset: -t0,
      publishIntervalMs: 60_000,
    });
    open.push(h);
    const out = capture(h.bus, "test/bin-by/");
    const run = await h.start();
    const src = sourceStream(run, "norm", {
      ratio: { dtype: "float64", shape: [] },
      motor: { dtype: "float64", shape: [] },
    });
    const rng = seededRng(4);
    const all: [number, number][] = [];
    for (let p = 0; p < 20; p++) {
      const motor = Float64Array.from({ length: 100 }, () => (t0 + rng.uniform() * 6 - 2.5) / scale);
      const ratio = Float64Array.from(motor, (m) => Math.tanh(m * scale - t0) + rng.normal(0, 0.1));
      motor.forEach((m, i) => all.push([m * scale - t0, ratio[i]!]));
      await h.bus.publish(
        pageOf(
          src,
          Float64Array.from(motor, (_, i) => p + i / 1000),
          { motor: nd(motor), ratio: nd(ratio) },
        ),
      );
    }
    await h.stop();
    const d = eventsOf(await out.drain(), "bin-by").at(-1)!.data;
    const centres = arr(d.centres);
    expect(centres.length).toBe(40);
    expect(centres[0]).toBeCloseTo(-2 + 0.0625, 12);
    for (const b of [0, 13, 39]) {
      const ys = all.filter(([x]) => Math.floor((x + 2) / 0.125) === b && x >= -2 && x < 3).map(([, y]) => y);
      const m = ys.reduce((a, v) => a + v, 0) / ys.length;
      const sd = Math.sqrt(ys.reduce((a, v) => a + (v - m) ** 2, 0) / (ys.length - 1));
      expect(arr(d.counts)[b]).toBe(ys.length);
      expect(arr(d.mean)[b]).toBeCloseTo(m, 10);
      expect(arr(d.sem)[b]).toBeCloseTo(sd / Math.sqrt(ys.length), 10);
    }
    expect((d.entries as number) + (d.outside as number)).toBe(2000);
  });

  it("clear restarts the profile while running", async () => {
    const h = await hostStage(binByNode, {
      input: "norm",
      x: "x",
      y: "y",
      bins: 2,
      range: [0, 2],
      publishIntervalMs: 60_000,
    });
    open.push(h);
    const out = capture(h.bus, "test/bin-by/");
    const run = await h.start();
    const src = sourceStream(run, "norm", {
      x: { dtype: "float64", shape: [] },
      y: { dtype: "float64", shape: [] },
    });
    await h.bus.publish(pageOf(src, [1], { x: [0.5], y: [7] }));
    await until(() => h.counters.get("batches") === 1, 5000, "the first page to be binned");
    expect(await h.action("clear", {})).toEqual({ cleared: true });
    await h.bus.publish(pageOf(src, [2], { x: [1.5], y: [3] }));
    await h.stop();
    const d = eventsOf(await out.drain(), "bin-by").at(-1)!.data;
    expect(arr(d.counts)).toEqual([0, 1]);
  });
});

describe("running-average stage", () => {
  const img: Record<string, FieldSpec> = { frame: { dtype: "uint16", shape: [3, 4] } };

  it("averages images over the run exactly (Welford), with std, and over the last N frames", async () => {
    const rng = seededRng(6);
    const frames = Array.from({ length: 25 }, () =>
      Uint16Array.from({ length: 12 }, () => Math.floor(rng.uniform() * 60000)),
    );
    const expectMean = (fs: Uint16Array[]) =>
      Array.from({ length: 12 }, (_, i) => fs.reduce((a, f) => a + f[i]!, 0) / fs.length);
    for (const [params, expected] of [
      [{ withStd: true, outputDtype: "float64" }, expectMean(frames)],
      [{ frames: 10, outputDtype: "float64" }, expectMean(frames.slice(-10))],
    ] as const) {
      const h = await hostStage(averageNode, {
        input: "det",
        field: "frame",
        publishIntervalMs: 60_000,
        ...params,
      });
      open.push(h);
      const out = capture(h.bus, "test/running-average/");
      const run = await h.start();
      const src = sourceStream(run, "det", img);
      for (let k = 0; k < 25; k += 5) {
        const page = new Uint16Array(5 * 12);
        for (let j = 0; j < 5; j++) page.set(frames[k + j]!, j * 12);
        await h.bus.publish(pageOf(src, [1, 2, 3, 4, 5], { frame: nd(page, [5, 3, 4]) }));
      }
      await h.stop();
      const docs = await out.drain();
      const desc = docs.find((d) => d.kind === "descriptor");
      expect(desc && desc.kind === "descriptor" && desc.fields.mean!.shape).toEqual([3, 4]);
      const d = eventsOf(docs, "running-average").at(-1)!.data;
      const got = arr(d.mean);
      expected.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 9));
      expect(d.count).toBe("frames" in params ? 10 : 25);
      if ("withStd" in params) {
        const m = expected[0]!;
        const sd = Math.sqrt(frames.reduce((a, f) => a + (f[0]! - m) ** 2, 0) / 24);
        expect(arr(d.std)[0]).toBeCloseTo(sd, 8);
      }
    }
  });

  it("publishes the centre of mass of the averaged image", async () => {
    const h = await hostStage(averageNode, {
      input: "det",
      field: "frame",
      centreOfMass: true,
      publishIntervalMs: 0,
    });
    open.push(h);
    const out = capture(h.bus, "test/running-average/");
    const run = await h.start();
    const src = sourceStream(run, "det", img);
    const a = new Uint16Array(12);
    a[1 * 4 + 2] = 10;
    const b = new Uint16Array(12);
    b[2 * 4 + 0] = 30;
    const page = new Uint16Array(24);
    page.set(a);
    page.set(b, 12);
    await h.bus.publish(pageOf(src, [1, 2], { frame: nd(page, [2, 3, 4]) }));
    await h.stop();
    const d = eventsOf(await out.drain(), "running-average").at(-1)!.data;
    const mean = Float64Array.from(arr(d.mean));
    const c = centreOfMass(mean, 4, 3);
    expect(d.com_x).toBeCloseTo(c.x, 12);
    expect(d.com_y).toBeCloseTo(c.y, 12);
    expect(d.com_x).toBeCloseTo((10 * 2.5 + 30 * 0.5) / 40, 6);
  });

  it("refuses std with a frame window, naming the field", () => {
    const r = averageNode.params.safeParse({ input: "d", field: "f", frames: 3, withStd: true });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(["withStd"]);
  });
});
