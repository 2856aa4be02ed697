// Unit tests of the frame plan and the background arithmetic (mean, median, float subtraction).
import { describe, expect, it } from "vitest";
import { FramePlan, FrameKind } from "./frame-plan.js";
import { BackgroundAccumulator, subtractBackground } from "./background.js";

describe("FramePlan", () => {
  it("classifies by count: skip, background, data, post-shot, then unexpected; event = index - skip + 1", () => {
    const plan = new FramePlan({
      num_skip_frames: 2,
      num_background_frames: 3,
      num_data_frames: 1,
      num_post_background_frames: 2,
    });
    const slots = Array.from({ length: 10 }, () => plan.next());
    expect(slots.map((s) => s.kind)).toEqual([0, 0, 1, 1, 1, 2, 3, 3, 4, 4]);
    expect(slots.map((s) => s.eventNumber)).toEqual([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(slots[5]).toEqual({ kind: FrameKind.data, frameIndex: 5, eventNumber: 4 });
    expect(plan.expected).toBe(8);
    expect(plan.complete).toBe(true);
    expect(plan.seen).toEqual([2, 3, 1, 2, 2]);
  });

  it("says what is missing", () => {
    const plan = new FramePlan({
      num_skip_frames: 1,
      num_background_frames: 10,
      num_data_frames: 1,
      num_post_background_frames: 0,
    });
    for (let i = 0; i < 4; i++) plan.next();
    expect(plan.backgroundsDone).toBe(false);
    expect(plan.describeMissing()).toBe("background 3/10, data 0/1");
  });
});

describe("background", () => {
  const frames = [
    Uint16Array.of(1, 10, 100, 7),
    Uint16Array.of(3, 30, 0, 7),
    Uint16Array.of(2, 20, 65535, 9),
  ];

  it("mean of the frames, and subtraction as float32 keeping negatives", async () => {
    const acc = new BackgroundAccumulator("mean", 2, 2);
    for (const f of frames) acc.add(f);
    const bg = (await acc.result())!;
    expect([...bg]).toEqual([2, 20, Math.fround(65635 / 3), Math.fround(23 / 3)]);
    const sub = subtractBackground(Uint16Array.of(0, 25, 65535, 8), bg);
    expect(sub[0]).toBe(-2);
    expect(sub[1]).toBe(5);
    expect(sub[3]).toBeCloseTo(8 - 23 / 3, 5);
  });

  it("mean of an even and an odd number of frames (frames are summed two per pass)", async () => {
    for (const k of [1, 2, 4, 5]) {
      const acc = new BackgroundAccumulator("mean", 2, 2);
      for (let i = 0; i < k; i++) acc.add(Uint16Array.of(i, 10 * i, 65535, 1));
      expect(acc.count).toBe(k);
      const mean = (k - 1) / 2;
      expect([...(await acc.result())!]).toEqual([mean, 10 * mean, 65535, 1]);
    }
  });

  it("a sum array left by a finished mean is reused and its stale contents never leak into the next", async () => {
    const first = new BackgroundAccumulator("mean", 2, 2);
    for (let i = 0; i < 3; i++) first.add(Uint16Array.of(60000, 60000, 60000, 60000));
    expect([...(await first.result())!]).toEqual([60000, 60000, 60000, 60000]);
    expect(await first.result()).toBe(await first.result());
    expect(() => first.add(Uint16Array.of(1, 2, 3, 4))).toThrow(/after the background was made/);
    for (const k of [1, 2, 3]) {
      const next = new BackgroundAccumulator("mean", 2, 2);
      for (let i = 0; i < k; i++) next.add(Uint16Array.of(2, 4, 6, 8));
      expect([...(await next.result())!]).toEqual([2, 4, 6, 8]);
    }
  });

  it("median per pixel, odd and even counts", async () => {
    const odd = new BackgroundAccumulator("median", 2, 2);
    for (const f of frames) odd.add(f);
    expect([...(await odd.result())!]).toEqual([2, 20, 100, 7]);
    const even = new BackgroundAccumulator("median", 2, 2);
    for (const f of frames.slice(0, 2)) even.add(f);
    expect([...(await even.result())!]).toEqual([2, 20, 50, 7]);
    expect(await new BackgroundAccumulator("median", 2, 2).result()).toBeUndefined();
  });

  it("median over many rows (sliced) equals the direct median", async () => {
    const w = 3,
      h = 200;
    const fs = Array.from({ length: 5 }, (_, k) =>
      Uint16Array.from({ length: w * h }, (_, i) => (i * 7919 + k * 104729) % 4096),
    );
    const acc = new BackgroundAccumulator("median", w, h);
    fs.forEach((f) => acc.add(f));
    const bg = (await acc.result())!;
    for (const i of [0, 1, 299, 599]) {
      const v = fs.map((f) => f[i]!).sort((a, b) => a - b);
      expect(bg[i]).toBe(v[2]);
    }
  });
});
