import { afterEach, describe, expect, it } from "vitest";
import { nd, roiMask, roiSum, seededRng, type FieldSpec } from "../src/core/index.js";
import { roiNode } from "../src/analysis/roi-node.js";
import {
  capture,
  hostStage,
  pageOf,
  pagesOf,
  sourceStream,
  type StageHarness,
} from "./helpers/analysis-context.js";

let h: StageHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const W = 64;
const H = 32;
const THR = 1000 / 3.65;

function frames(seed: number, n: number): Float32Array {
  const rng = seededRng(seed);
  return Float32Array.from({ length: n * W * H }, () => Math.max(0, rng.normal(300, 150)));
}

/** numpy: s = img * gain; s[s < thr] = 0; s[y0:y1, x0:x1].sum() */
function direct(
  img: Float32Array,
  f: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  gain: number,
  thr: number,
): number {
  let s = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const v = img[f * W * H + y * W + x]! * gain;
      if (v >= thr) s += v;
    }
  }
  return s;
}

const fields: Record<string, FieldSpec> = {
  frame: { dtype: "float32", shape: [H, W] },
  i0: { dtype: "float64", shape: [] },
  beam: { dtype: "float64", shape: [] },
};

describe("roi-sum stage", () => {
  it("sums rectangles and polygons per event with gain and threshold, carries I0, applies cuts", async () => {
    const tri: [number, number][] = [
      [5, 5],
      [40, 8],
      [20, 30],
    ];
    h = await hostStage(roiNode, {
      input: "mpccd",
      image: "frame",
      gain: 0.8,
      threshold: THR,
      rois: [
        { name: "roi1", kind: "rect", x0: 10, y0: 4, x1: 30, y1: 20 },
        { name: "tri", kind: "polygon", points: tri },
      ],
      carry: ["i0"],
      cuts: [{ field: "beam", gt: 0 }],
      publishIntervalMs: 60_000,
    });
    const out = capture(h.bus, "test/roi-sum/");
    const run = await h.start();
    const src = sourceStream(run, "mpccd", fields);
    const img = frames(1, 4);
    await h.bus.publish(
      pageOf(src, [1, 2, 3, 4], { frame: nd(img, [4, H, W]), i0: [0.5, 0.6, 0.7, 0.8], beam: [1, 0, 1, 1] }),
    );
    await h.stop();
    const pages = pagesOf(await out.drain(), "roi-sum");
    expect(pages.length).toBe(1);
    const p = pages[0]!;
    expect([...p.time.data]).toEqual([1, 3, 4]);
    expect([...p.data.i0!.data]).toEqual([0.5, 0.7, 0.8]);
    const triMask = roiMask({ kind: "polygon", points: tri }, W, H);
    [0, 2, 3].forEach((f, k) => {
      expect(p.data.roi1!.data[k]).toBeCloseTo(direct(img, f, 10, 4, 30, 20, 0.8, THR), 6);
      expect(p.data.tri!.data[k]).toBeCloseTo(
        roiSum(img, f * W * H, triMask, { gain: 0.8, threshold: THR }),
        6,
      );
    });
  });

  it("set-roi adds and removes ROIs while running: a new descriptor, earlier rows get NaN", async () => {
    h = await hostStage(roiNode, {
      input: "mpccd",
      image: "frame",
      rois: [{ name: "a", kind: "rect", x0: 0, y0: 0, x1: 4, y1: 4 }],
      publishIntervalMs: 60_000,
    });
    const out = capture(h.bus, "test/roi-sum/");
    const run = await h.start();
    const src = sourceStream(run, "mpccd", fields);
    const img = frames(2, 2);
    await h.bus.publish(pageOf(src, [1], { frame: nd(img.slice(0, W * H), [1, H, W]), i0: [1], beam: [1] }));
    const res = await h.action("set-roi", {
      name: "b",
      roi: {
        kind: "polygon",
        points: [
          [0, 0],
          [8, 0],
          [8, 8],
          [0, 8],
        ],
      },
    });
    expect(res).toEqual({
      rois: [expect.objectContaining({ name: "a" }), expect.objectContaining({ name: "b" })],
      gain: 1,
      threshold: null,
    });
    await h.bus.publish(pageOf(src, [2], { frame: nd(img.slice(W * H), [1, H, W]), i0: [1], beam: [1] }));
    await h.action("set-roi", { name: "a", roi: null });
    await h.bus.publish(pageOf(src, [3], { frame: nd(img.slice(W * H), [1, H, W]), i0: [1], beam: [1] }));
    await h.stop();
    const docs = await out.drain();
    const descriptors = docs.filter((d) => d.kind === "descriptor");
    expect(descriptors.map((d) => Object.keys(d.kind === "descriptor" ? d.fields : {}))).toEqual([
      ["a"],
      ["a", "b"],
      ["b"],
    ]);
    const pages = pagesOf(docs, "roi-sum");
    expect(pages.map((p) => [...p.time.data])).toEqual([[1], [2], [3]]);
    expect(pages[1]!.data.b!.data[0]).toBe(direct(img, 1, 0, 0, 8, 8, 1, -Infinity));
    // The ROI list persists into the next run.
    await h.start(2);
    await h.stop();
    expect(h.failures).toEqual([]);
  });

  it("a missing detector raises an alarm naming it, clears it when it returns, and the stage goes on", async () => {
    h = await hostStage(roiNode, {
      input: "mpccd",
      image: "frame",
      rois: [{ name: "a", kind: "rect", x0: 0, y0: 0, x1: 2, y1: 2 }],
      carry: ["i0"],
      publishIntervalMs: 0,
    });
    const run = await h.start();
    const src = sourceStream(run, "mpccd", fields);
    await h.bus.publish(pageOf(src, [1], { i0: [1] }));
    await h.bus.publish(pageOf(src, [2], { frame: nd(frames(3, 1), [1, H, W]), i0: [1] }));
    await h.stop();
    expect(h.alarms).toEqual([
      {
        id: "roi-sum:missing:frame",
        severity: "warning",
        message: "roi-sum: field 'frame' is missing from stream 'mpccd'",
        active: true,
      },
      {
        id: "roi-sum:missing:frame",
        severity: "warning",
        message: "roi-sum: field 'frame' is back in stream 'mpccd'",
        active: false,
      },
    ]);
    expect(h.counters.get("batches")).toBe(2);
  });

  it("a frame of the wrong shape is counted invalid and logged, not fatal", async () => {
    h = await hostStage(roiNode, { input: "mpccd", image: "frame", rois: [], publishIntervalMs: 0 });
    const run = await h.start();
    const src = sourceStream(run, "mpccd", { frame: { dtype: "float32", shape: [4] } });
    await h.bus.publish(pageOf(src, [1], { frame: nd(new Float32Array(4), [1, 4]) }));
    await h.stop();
    expect(h.counters.get("invalid")).toBe(1);
    expect(h.logs[0]!.message).toMatch(/image 'frame' has shape \[4\] per event, expected \[height, width\]/);
  });

  it("refuses duplicate ROI names and short polygons", () => {
    const r = roiNode.params.safeParse({
      input: "x",
      image: "f",
      rois: [
        { name: "a", kind: "rect", x0: 0, y0: 0, x1: 1, y1: 1 },
        {
          name: "a",
          kind: "polygon",
          points: [
            [0, 0],
            [1, 1],
          ],
        },
      ],
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message)).toContain("a polygon needs at least 3 points");
  });
});
