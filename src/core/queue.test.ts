import { describe, expect, it } from "vitest";
import { BoundedQueue } from "./queue.js";

describe("BoundedQueue", () => {
  it("drop-oldest keeps the newest items and counts the drops", async () => {
    const q = new BoundedQueue<number>({ capacity: 3, overflow: "drop-oldest" });
    for (let i = 0; i < 10; i++) q.push(i);
    q.close();
    const got: number[] = [];
    for await (const x of q) got.push(x);
    expect(got).toEqual([7, 8, 9]);
    expect(q.stats.dropped).toBe(7);
  });

  it("latest-only keeps one item", async () => {
    const q = new BoundedQueue<number>({ capacity: 100, overflow: "latest-only" });
    q.push(1);
    q.push(2);
    expect(await q.get()).toBe(2);
    expect(q.stats.dropped).toBe(1);
  });

  it("block never drops: put() waits for space until the consumer takes", async () => {
    const q = new BoundedQueue<number>({ capacity: 2, overflow: "block" });
    const produced = (async () => {
      for (let i = 0; i < 100; i++) await q.put(i);
      q.close();
    })();
    await new Promise((r) => setImmediate(r));
    expect(q.length).toBe(2);
    expect(q.stats.blocked).toBe(1);
    const got: number[] = [];
    for await (const x of q) got.push(x);
    await produced;
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(q.stats.dropped).toBe(0);
    expect(q.stats.blocked).toBeGreaterThan(0);
    expect(q.push(1)).toBe(false);
  });

  it("get() ends with undefined on timeout, and close(err) makes iteration throw after draining", async () => {
    const q = new BoundedQueue<number>({ capacity: 4, overflow: "block" });
    expect(await q.get({ timeoutMs: 5 })).toBeUndefined();
    q.push(1);
    q.close(new Error("boom"));
    const it = q[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 1, done: false });
    await expect(it.next()).rejects.toThrow("boom");
    expect(await q.closed()).toBeInstanceOf(Error);
  });

  it("breaking out of for-await closes the queue", async () => {
    const q = new BoundedQueue<number>({ capacity: 4, overflow: "block" });
    q.push(1);
    q.push(2);
    for await (const _ of q) break;
    expect(q.isClosed).toBe(true);
  });
});
