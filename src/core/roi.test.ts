import { describe, expect, it } from "vitest";
import { centreOfMass, roiMask, roiSum, roiSumFrames } from "./roi.js";
import { seededRng } from "./stats.js";

const THR_TEST = 1000 / 3.65;
const W = 32;
const H = 24;

function image(seed: number): Float32Array {
  const rng = seededRng(seed);
  return Float32Array.from({ length: W * H }, () => Math.round(rng.uniform() * 1000));
}

/** numpy-style sum(img[y0:y1, x0:x1]) written the obvious way. */
function directRect(
  img: Float32Array,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  gain = 1,
  thr = -Infinity,
): number {
  let s = 0;
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      const v = img[y * W + x]! * gain;
      if (v >= thr) s += v;
    }
  return s;
}

function inside(px: number, py: number, pts: [number, number][]): boolean {
  let c = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i]!;
    const [xj, yj] = pts[j]!;
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

describe("ROI masks and sums", () => {
  it("a rectangle sums img[y0:y1, x0:x1], with gain and threshold (pixels below set to 0)", () => {
    const img = image(1);
    const m = roiMask({ kind: "rect", x0: 3, y0: 2, x1: 20, y1: 11 }, W, H);
    expect(m.pixels).toBe(17 * 9);
    expect(roiSum(img, 0, m)).toBe(directRect(img, 3, 2, 20, 11));
    const thr = 1000 / 3.65;
    expect(roiSum(img, 0, m, { gain: 0.5, threshold: thr })).toBeCloseTo(
      directRect(img, 3, 2, 20, 11, 0.5, thr),
      6,
    );
  });

  it("like numpy, a NaN pixel inside the ROI makes the thresholded sum NaN; outside it does not matter", () => {
    const img = image(6);
    img[3 * W + 12] = NaN;
    const inside = roiMask({ kind: "rect", x0: 10, y0: 2, x1: 20, y1: 5 }, W, H);
    const outside = roiMask({ kind: "rect", x0: 0, y0: 10, x1: 5, y1: 15 }, W, H);
    expect(roiSum(img, 0, inside, { threshold: THR_TEST })).toBeNaN();
    expect(roiSum(img, 0, outside, { threshold: THR_TEST })).toBe(directRect(img, 0, 10, 5, 15, 1, THR_TEST));
  });

  it("clips a rectangle to the image", () => {
    const m = roiMask({ kind: "rect", x0: -5, y0: 20, x1: 100, y1: 100 }, W, H);
    expect(m.pixels).toBe(W * 4);
    expect(roiMask({ kind: "rect", x0: 10, y0: 0, x1: 5, y1: 5 }, W, H).pixels).toBe(0);
  });

  it("a polygon covering a rectangle's pixel edges equals that rectangle", () => {
    const img = image(2);
    const poly = roiMask(
      {
        kind: "polygon",
        points: [
          [3, 2],
          [20, 2],
          [20, 11],
          [3, 11],
        ],
      },
      W,
      H,
    );
    const rect = roiMask({ kind: "rect", x0: 3, y0: 2, x1: 20, y1: 11 }, W, H);
    expect(poly.pixels).toBe(rect.pixels);
    expect(roiSum(img, 0, poly)).toBe(roiSum(img, 0, rect));
  });

  it("a concave polygon takes exactly the pixels whose centres are inside", () => {
    const pts: [number, number][] = [
      [2, 2],
      [28, 3.3],
      [15, 10.7],
      [29, 21],
      [1.5, 22],
    ];
    const img = image(3);
    const m = roiMask({ kind: "polygon", points: pts }, W, H);
    let n = 0;
    let s = 0;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        if (inside(x + 0.5, y + 0.5, pts)) {
          n++;
          s += img[y * W + x]!;
        }
    expect(m.pixels).toBe(n);
    expect(roiSum(img, 0, m)).toBe(s);
  });

  it("sums every frame of a page and refuses a page too small", () => {
    const a = image(4);
    const b = image(5);
    const page = new Float32Array(2 * W * H);
    page.set(a);
    page.set(b, W * H);
    const m = roiMask({ kind: "rect", x0: 0, y0: 0, x1: 4, y1: 4 }, W, H);
    expect([...roiSumFrames(page, 2, m)]).toEqual([directRect(a, 0, 0, 4, 4), directRect(b, 0, 0, 4, 4)]);
    expect(() => roiSumFrames(page, 3, m)).toThrow(/need 2304 pixels/);
    expect(() =>
      roiMask(
        {
          kind: "polygon",
          points: [
            [0, 0],
            [1, 1],
          ],
        },
        W,
        H,
      ),
    ).toThrow(/at least 3 points/);
  });
});

describe("centreOfMass", () => {
  it("finds the weighted centre of pixel centres, optionally in a mask with a threshold", () => {
    const img = new Float64Array(W * H);
    img[5 * W + 10] = 3;
    img[7 * W + 14] = 1;
    img[0] = 0.5;
    const c = centreOfMass(img, W, H, { threshold: 1 });
    expect(c.sum).toBe(4);
    expect(c.x).toBe((3 * 10.5 + 14.5) / 4);
    expect(c.y).toBe((3 * 5.5 + 7.5) / 4);
    const m = roiMask({ kind: "rect", x0: 12, y0: 0, x1: W, y1: H }, W, H);
    expect(centreOfMass(img, W, H, { mask: m })).toEqual({ x: 14.5, y: 7.5, sum: 1 });
    expect(centreOfMass(new Float64Array(W * H), W, H).x).toBeNaN();
  });
});
