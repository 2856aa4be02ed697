// The native frame kernels (native/area_detector.c) give exactly the values of the TypeScript loops.
import { afterAll, describe, expect, it } from "vitest";
import { nativeAddon } from "../../core/index.js";
import { BackgroundAccumulator, subtractBackground, useNativeFrameKernels } from "./background.js";

const W = 37; // odd sizes: no kernel may assume a multiple of the vector width
const H = 29;

let seed = 12345;
const rnd = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed >>> 8;
};
const frame = () => Uint16Array.from({ length: W * H }, () => (rnd() % 7 === 0 ? 65535 : rnd() & 0xffff));

/** The background of `frames` with the native kernels on or off. */
async function background(method: "mean" | "median", frames: Uint16Array[], native: boolean) {
  const was = useNativeFrameKernels(native);
  try {
    const acc = new BackgroundAccumulator(method, W, H);
    for (const f of frames) acc.add(f);
    return await acc.result();
  } finally {
    useNativeFrameKernels(was);
  }
}

const initial = useNativeFrameKernels(true);
afterAll(() => void useNativeFrameKernels(initial));

describe("native frame kernels", () => {
  it("are built where CI runs", () => {
    if (process.env.CI === "true") expect(nativeAddon?.adSum).toBeTypeOf("function");
  });

  it.runIf(nativeAddon !== undefined)(
    "mean and median of 1..11 frames equal the TypeScript ones",
    async () => {
      for (let k = 1; k <= 11; k++) {
        const frames = Array.from({ length: k }, frame);
        for (const method of ["mean", "median"] as const) {
          const ts = await background(method, frames, false);
          const c = await background(method, frames, true);
          expect(Buffer.from(c!.buffer).equals(Buffer.from(ts!.buffer)), `${method} of ${k}`).toBe(true);
        }
      }
    },
  );

  it.runIf(nativeAddon !== undefined)(
    "subtraction equals the TypeScript one, negatives and fractions kept",
    () => {
      const f = frame();
      const bg = Float32Array.from({ length: W * H }, () => (rnd() % 70000) - 2000 + (rnd() % 1000) / 997);
      useNativeFrameKernels(false);
      const ts = subtractBackground(f, bg);
      useNativeFrameKernels(true);
      const c = subtractBackground(f, bg);
      expect(Buffer.from(c.buffer).equals(Buffer.from(ts.buffer))).toBe(true);
      expect(c.some((v) => v < 0)).toBe(true);
      expect(() => subtractBackground(f, bg.subarray(1))).toThrow(/cannot subtract/);
    },
  );

  it.runIf(nativeAddon !== undefined)("refuse arguments of the wrong kind with a clear error", () => {
    const a = nativeAddon!;
    expect(() => a.adSum(new Uint32Array(4), new Uint16Array(3), null, true)).toThrow(/different lengths/);
    expect(() => a.adSum(new Float64Array(4) as never, new Uint16Array(4), null, true)).toThrow(
      /adSum takes/,
    );
    expect(() => a.adMedianRows([], new Float32Array(4), 0, 4)).toThrow(/1 to 256 frames/);
    expect(() => a.adMedianRows([new Uint16Array(3)], new Float32Array(4), 0, 4)).toThrow(/as long as/);
    expect(() => a.adMedianRows([new Uint16Array(4)], new Float32Array(4), 0, 5)).toThrow(/out of range/);
  });
});
