// Pixel layouts: chip ids and chip keys, unconnected channels, the dense lookup, and errors that name the problem.
import { describe, expect, it } from "vitest";
import { PixelLayout } from "./pixel-layout.js";

describe("pixel layouts", () => {
  const layout = PixelLayout.fromObject({
    pixels: [
      [0, 0, 0],
      [1, 3, 0],
      [2, 6, 0],
      [3, 9, 0],
    ],
    chips: [
      [246, [0, 1, null]],
      ["2-1-246", [3]], // a chip key wins over the bare id on its own daisy chain
    ],
  });

  it("maps channels of chips given by id or by key", () => {
    expect(layout.pixels).toBe(4);
    expect(layout.pixelOf(1, 1, 246, 1)).toBe(1);
    expect(layout.pixelOf(1, 1, 246, 2)).toBe(-1); // null: not connected
    expect(layout.pixelOf(2, 1, 246, 0)).toBe(3);
    expect(layout.pixelOf(1, 1, 245, 0)).toBe(-1);
    expect([...layout.xy.subarray(2, 4)]).toEqual([3, 0]);
  });

  it("fills a column: data packets get their pixel, other types -1", () => {
    const out = new Int32Array(4);
    layout.fill(
      4,
      Uint8Array.of(0, 0, 3, 0),
      Uint8Array.of(1, 2, 1, 1),
      Uint8Array.of(1, 1, 1, 1),
      Uint8Array.of(246, 246, 246, 99),
      Uint8Array.of(1, 0, 1, 0),
      out,
    );
    expect([...out]).toEqual([1, 3, -1, -1]);
  });

  it("lays out chips in order by default, and names problems in a file", () => {
    const seq = PixelLayout.sequential(["1-1-246", "1-1-245"]);
    expect(seq.pixels).toBe(64);
    expect(seq.pixelOf(1, 1, 245, 3)).toBe(35);
    expect(() => PixelLayout.fromObject({ pixels: [[0, 0, 0]], chips: [[1, [5]]] }, "x.yaml")).toThrow(
      /x.yaml: chip 1 channel 0 names pixel 5, only 1 exist/,
    );
    expect(() => PixelLayout.fromObject({ pixels: [], chips: [] }, "y.yaml")).toThrow(/y.yaml: pixels/);
    expect(() => PixelLayout.load("/nonexistent/layout.yaml")).toThrow(/cannot read it/);
  });
});
