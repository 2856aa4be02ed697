import { afterEach, describe, expect, it } from "vitest";
import { nd } from "../src/core/index.js";
import { rateNode } from "../src/analysis/rate-node.js";
import {
  capture,
  eventsOf,
  hostStage,
  pageOf,
  sourceStream,
  until,
  type StageHarness,
} from "./helpers/analysis-context.js";

let h: StageHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const T0 = 1_700_000_000;
const arr = (v: unknown) => [...(v as { data: Float64Array }).data];

describe("rate stage", () => {
  it("with event times gives rate, total, mean rate, per-second history and per-pixel rates exactly", async () => {
    h = await hostStage(rateNode, {
      input: "packets",
      timeBase: "event",
      historySec: 4,
      windowSec: 2,
      perKey: { field: "pixel", keys: 3 },
      publishIntervalMs: 0,
    });
    const out = capture(h.bus, "test/rate/");
    const run = await h.start();
    const src = sourceStream(run, "packets", { pixel: { dtype: "float64", shape: [] } });
    // Second 0: 4 events, second 1: 6 events, second 2: 1 event (newest, still filling).
    await h.bus.publish(pageOf(src, [T0, T0 + 0.2, T0 + 0.4, T0 + 0.6], { pixel: [0, 0, 1, 2] }));
    await h.bus.publish(
      pageOf(
        src,
        [1, 1.1, 1.2, 1.3, 1.4, 1.5].map((t) => T0 + t),
        { pixel: [0, 0, 0, 0, 1, 1] },
      ),
    );
    await h.bus.publish(pageOf(src, [T0 + 2.5], { pixel: [2] }));
    await h.stop();
    const ev = eventsOf(await out.drain(), "rate");
    const d = ev.at(-1)!.data;
    expect(d.rate).toBe(5);
    expect(d.total).toBe(11);
    expect(d.mean_rate).toBeCloseTo(11 / 2.5, 12);
    expect(arr(d.history)).toEqual([0, 0, 4, 6]);
    expect(d.history_start).toBe(T0 - 2);
    expect(arr(d.key_rate)).toEqual([3, 1.5, 0.5]);
    expect(d.key_rate_max).toBe(3);
  });

  it("with arrival times counts every event of every page and publishes on a timer", async () => {
    h = await hostStage(rateNode, { input: "packets", publishIntervalMs: 20, capacity: 1000 });
    const out = capture(h.bus, "test/rate/");
    const run = await h.start();
    const src = sourceStream(run, "packets", { adc: { dtype: "uint16", shape: [] } });
    for (let p = 0; p < 50; p++)
      await h.bus.publish(pageOf(src, [T0, T0], { adc: nd(Uint16Array.of(1, 2)) }));
    // Wait for a timer publish (no sleep: watch the bus).
    await until(() => out.sub.stats.pushed >= 2, 5000, "a timed publish");
    await h.stop();
    const ev = eventsOf(await out.drain(), "rate");
    expect(ev.at(-1)!.data.total).toBe(100);
    expect(arr(ev.at(-1)!.data.history).reduce((a, b) => a + b, 0) + 0).toBeLessThanOrEqual(100);
    expect(h.counters.get("skipped")).toBe(0);
  });

  it("latest-only input skips documents when it falls behind, and counts them", async () => {
    h = await hostStage(rateNode, { input: "packets", overflow: "latest-only", publishIntervalMs: 60_000 });
    const run = await h.start();
    const src = sourceStream(run, "packets", { adc: { dtype: "uint16", shape: [] } });
    // Published synchronously in one go: the stage only sees the newest.
    const pages = Array.from({ length: 10 }, () => pageOf(src, [T0], { adc: nd(Uint16Array.of(1)) }));
    await Promise.all(pages.map((p) => h!.bus.publish(p)));
    await h.stop();
    // Every document is either processed or counted as skipped: nothing is lost silently.
    expect(h.counters.get("skipped")).toBeGreaterThanOrEqual(8);
    expect(h.counters.get("skipped") + h.counters.get("received")).toBe(10);
  });

  it("refuses a window longer than the history", () => {
    const r = rateNode.params.safeParse({ input: "p", historySec: 5, windowSec: 10 });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toBe("windowSec must not exceed historySec");
  });
});
