// Beamline analysis against a direct computation on the simulator's frames: ROI sums (gain, 1000/3.65 threshold,
// rectangle and polygon) in worker threads, I0 normalisation with the shot filter, and delay binning.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binByNode, frameAverageNode, normaliseNode, roiWorkerNode } from "../src/analysis/index.js";
import type { ComponentDef } from "../src/component/index.js";
import { resultOf } from "../src/control/index.js";
import type { EventPage, NdArray } from "../src/core/index.js";
import { beamlineSimComponent } from "../src/sim/index.js";
import { beamlineSourceComponent } from "../src/sources/index.js";
import { startRig, type Rig } from "./dashboard-rig.js";
import { until } from "./helpers/instrument.js";
import { freeTcpAddress } from "./helpers/ports.js";

const W = 1024;
const THRESHOLD = 1000 / 3.65;
const SCALE = 6.666e-3;
const T0 = 0.7;
const RECT = { kind: "rect" as const, x0: 300, y0: 60, x1: 740, y1: 200 };
const POLY = {
  kind: "polygon" as const,
  points: [
    [512, 40],
    [880, 256],
    [512, 470],
    [144, 256],
  ] as [number, number][],
};

/** Pixel centre inside a polygon (even-odd), written independently of src/core/roi.ts. */
function inside(px: number, py: number, pts: [number, number][]): boolean {
  let c = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i]!;
    const [xj, yj] = pts[j]!;
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

/** A region as its bounding box and a pixel test. */
interface Region {
  readonly box: readonly [number, number, number, number];
  readonly has: (x: number, y: number) => boolean;
}
const rect: Region = { box: [RECT.x0, RECT.y0, RECT.x1, RECT.y1], has: () => true };
const poly: Region = { box: [144, 40, 880, 470], has: (x, y) => inside(x + 0.5, y + 0.5, POLY.points) };

/** The direct computation: sum over the region of img*gain where img*gain >= threshold. */
function direct(img: Float32Array, gain: number, r: Region, threshold = THRESHOLD): number {
  const [x0, y0, x1, y1] = r.box;
  let s = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      if (!r.has(x, y)) continue;
      const v = img[y * W + x]! * gain;
      if (v >= threshold) s += v;
    }
  }
  return s;
}

interface Truth {
  roi1: number;
  /** roi1 with a threshold of 0 instead of 1000/3.65. */
  raw1: number;
  roi2: number;
  i0: number;
  beam: number;
  delay: number;
}

let rig: Rig;
const truth = new Map<number, Truth>();
const pages: Record<string, EventPage[]> = { rois: [], norm: [], profile: [], point: [] };
let profileFinal: Record<string, NdArray | number> | undefined;
/** The newest beam-on frames (references: documents are immutable) and the averaged image last published. */
const lastFrames: Float32Array[] = [];
let avgFinal: Record<string, NdArray | number> | undefined;

beforeAll(async () => {
  const listen = await freeTcpAddress();
  const comp = (name: string, def: unknown, params: Record<string, unknown>) => ({
    name,
    def: def as ComponentDef<never>,
    params,
  });
  rig = await startRig({
    components: [
      comp("sim", beamlineSimComponent, {
        to: listen,
        rateHz: 60,
        detectors: [{ name: "mpccd1", gain: 1.3, photons: 3000 }],
        beamOffFraction: 0.25,
        delayScale: SCALE,
        t0Ps: T0,
        seed: 5,
      }),
      comp("beamline", beamlineSourceComponent, {
        listen,
        detectors: [{ name: "mpccd1" }],
        delay: { motor: "delay_motor", scale: SCALE, t0Ps: T0 },
      }),
      comp("rois", roiWorkerNode, {
        input: "mpccd1",
        image: "frame",
        gainField: "gain",
        workers: 2,
        rois: [
          { name: "roi1", ...RECT },
          { name: "roi2", ...POLY },
        ],
        carry: ["tag", "i0", "beam_status", "delay"],
        publishIntervalMs: 100,
      }),
      comp("norm", normaliseNode, {
        input: "rois",
        field: "roi1",
        by: "i0",
        carry: ["tag", "delay"],
        cuts: [
          { field: "beam_status", gt: 0 },
          { field: "i0", gt: 0.01 },
        ],
        publishIntervalMs: 100,
      }),
      comp("avg", frameAverageNode, {
        input: "mpccd1",
        field: "frame",
        frames: 5,
        cuts: [{ field: "beam_status", gt: 0 }],
        publishIntervalMs: 200,
      }),
      comp("profile", binByNode, {
        input: "norm",
        x: "delay",
        y: "roi1_over_i0",
        bins: 40,
        range: [-2, 3],
        publishIntervalMs: 100,
      }),
    ],
  });
  // The direct computation runs on the very frames the simulator sent, as they reach the bus.
  rig.bus.tap("demo/", ({ doc }) => {
    if (doc.kind !== "event-page") return;
    if (doc.stream === "mpccd1") {
      const img = doc.data.frame!.data as Float32Array;
      const gain = doc.data.gain!.data[0] as number;
      const tag = doc.data.tag!.data[0] as number;
      if ((doc.data.beam_status!.data[0] as number) > 0) lastFrames.push(img);
      if (lastFrames.length > 5) lastFrames.shift();
      truth.set(tag, {
        roi1: direct(img, gain, rect),
        raw1: direct(img, gain, rect, 0),
        roi2: direct(img, gain, poly),
        i0: doc.data.i0!.data[0] as number,
        beam: doc.data.beam_status!.data[0] as number,
        delay: doc.data.delay!.data[0] as number,
      });
    } else if (doc.stream in pages) pages[doc.stream]!.push(doc);
  });
  rig.bus.tap("demo/profile/event", ({ doc }) => {
    if (doc.kind === "event") profileFinal = doc.data as Record<string, NdArray | number>;
  });
  rig.bus.tap("demo/avg/event", ({ doc }) => {
    if (doc.kind === "event") avgFinal = doc.data as Record<string, NdArray | number>;
  });
  await resultOf(rig.core.command("start", {}));
  await until(() => pages.rois!.reduce((a, p) => a + p.n, 0) >= 60, "60 ROI rows", 20_000);
  await resultOf(rig.core.command("stop", {}));
}, 40_000);

afterAll(async () => {
  await rig?.close();
});

const col = (p: EventPage, f: string) => p.data[f]!.data as ArrayLike<number>;

describe("beamline analysis vs a direct computation on the simulator's frames", () => {
  it("publishes delay = motor position x scale - t0 for every tag", () => {
    expect(pages.point!.length).toBeGreaterThanOrEqual(60);
    for (const p of pages.point!) {
      const d = col(p, "delay")[0]!;
      expect(d).toBeCloseTo(col(p, "delay_motor")[0]! * SCALE - T0, 12);
    }
  });

  it("ROI sums (rectangle and polygon, gain x frame, pixels below 1000/3.65 set to 0) match for every tag", async () => {
    const status = await rig.core.status();
    const rois = status.components.find((c) => c.name === "rois")!;
    expect(rois.counters.invalid ?? 0).toBe(0);
    let rows = 0;
    for (const p of pages.rois!) {
      for (let i = 0; i < p.n; i++) {
        const t = truth.get(col(p, "tag")[i]!)!;
        expect(t).toBeDefined();
        expect(col(p, "roi1")[i]).toBeCloseTo(t.roi1, 6);
        expect(col(p, "roi2")[i]).toBeCloseTo(t.roi2, 6);
        expect(col(p, "i0")[i]).toBe(t.i0);
        rows++;
      }
    }
    // every frame was summed, in order
    const tags = pages.rois!.flatMap((p) => Array.from(col(p, "tag")));
    expect(tags).toEqual([...tags].sort((a, b) => a - b));
    expect(rows + (rois.counters.skipped ?? 0)).toBe(truth.size);
    expect(rows).toBeGreaterThanOrEqual(60);
    // the threshold matters: it removes the read noise (sigma 40) of 61600 pixels and keeps the photons
    for (const t of truth.values()) {
      expect(t.raw1 - t.roi1).toBeGreaterThan(5e5);
      if (t.beam > 0 && t.i0 > 0.2) expect(t.roi1).toBeGreaterThan(10 * 1000);
    }
  });

  it("normalises ROI by I0 for shots with beam status > 0 and I0 > 0.01 only", () => {
    const got = new Map<number, number>();
    for (const p of pages.norm!)
      for (let i = 0; i < p.n; i++) got.set(col(p, "tag")[i]!, col(p, "roi1_over_i0")[i]!);
    const summed = new Set(pages.rois!.flatMap((p) => Array.from(col(p, "tag"))));
    const expected = [...summed].filter((tag) => truth.get(tag)!.beam > 0 && truth.get(tag)!.i0 > 0.01);
    expect(expected.length).toBeLessThan(summed.size); // the filter removed beam-off shots
    expect([...got.keys()].sort()).toEqual(expected.sort());
    for (const tag of expected)
      expect(got.get(tag)).toBeCloseTo(truth.get(tag)!.roi1 / truth.get(tag)!.i0, 6);
  });

  it("bins ROI/I0 by delay: 40 bins over -2..3 ps, mean and error of the mean per bin", () => {
    expect(profileFinal).toBeDefined();
    const sums = new Float64Array(40);
    const sq = new Float64Array(40);
    const n = new Float64Array(40);
    for (const p of pages.norm!) {
      for (let i = 0; i < p.n; i++) {
        const t = truth.get(col(p, "tag")[i]!)!;
        const b = Math.floor(((t.delay + 2) / 5) * 40);
        if (b < 0 || b >= 40) continue;
        const y = t.roi1 / t.i0;
        sums[b]! += y;
        sq[b]! += y * y;
        n[b]!++;
      }
    }
    const f = profileFinal!;
    const arr = (k: string) => (f[k] as NdArray).data as Float64Array;
    expect([...arr("counts")]).toEqual([...n]);
    expect(arr("centres")[0]).toBeCloseTo(-2 + 5 / 80, 12);
    for (let b = 0; b < 40; b++) {
      if (n[b]! === 0) {
        expect(arr("mean")[b]).toBeNaN();
        continue;
      }
      const mean = sums[b]! / n[b]!;
      expect(arr("mean")[b]).toBeCloseTo(mean, 4);
      if (n[b]! > 1) {
        const sd = Math.sqrt((sq[b]! - n[b]! * mean * mean) / (n[b]! - 1));
        expect(arr("sem")[b]! / (sd / Math.sqrt(n[b]!))).toBeCloseTo(1, 6);
      }
    }
  });

  it("averages the last 5 beam-on frames (frame-average), with their centre of mass", () => {
    expect(avgFinal).toBeDefined();
    expect(avgFinal!.count).toBe(5);
    const mean = (avgFinal!.mean as NdArray).data as Float32Array;
    expect((avgFinal!.mean as NdArray).shape).toEqual([512, W]);
    let s = 0;
    let sx = 0;
    let sy = 0;
    let worst = 0;
    for (let i = 0; i < mean.length; i++) {
      let m = 0;
      for (const f of lastFrames) m += f[i]!;
      m /= 5;
      worst = Math.max(worst, Math.abs(mean[i]! - m) / Math.max(1, Math.abs(m)));
      s += mean[i]!;
      sx += mean[i]! * ((i % W) + 0.5);
      sy += mean[i]! * (Math.floor(i / W) + 0.5);
    }
    expect(worst).toBeLessThan(1e-6); // float32 rounding of the mean
    expect(avgFinal!.com_x).toBeCloseTo(sx / s, 6);
    expect(avgFinal!.com_y).toBeCloseTo(sy / s, 6);
  });
});
