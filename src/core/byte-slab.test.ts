// Tests of ByteSlab: aligned, disjoint regions; a new slab when full; large requests get their own.
import { describe, expect, it } from "vitest";
import { ByteSlab } from "./byte-slab.js";

describe("ByteSlab", () => {
  it("hands out 8-byte aligned, disjoint regions of one slab until it is full", () => {
    const slab = new ByteSlab(64);
    const a = slab.take(10);
    const b = slab.take(20);
    expect(b.buffer).toBe(a.buffer);
    expect([a.offset, b.offset]).toEqual([0, 16]);
    const c = slab.take(40); // 16 + 24 + 40 > 64: a new slab
    expect(c.buffer).not.toBe(a.buffer);
    expect(c.offset).toBe(0);
  });

  it("gives a request larger than a slab a buffer of its own, zeroed", () => {
    const slab = new ByteSlab(64);
    const r = slab.take(1000);
    expect(r.buffer.byteLength).toBeGreaterThanOrEqual(1000);
    expect(new Uint8Array(r.buffer, r.offset, 1000).every((x) => x === 0)).toBe(true);
  });

  it("rejects a bad slab size", () => {
    expect(() => new ByteSlab(0)).toThrow(/slab size/);
  });
});
