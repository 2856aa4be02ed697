import { afterEach, describe, expect, it } from "vitest";
import type { Document, Quality } from "../src/core/index.js";
import { qualityNode } from "../src/analysis/quality-node.js";
import {
  capture,
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

const qualities = (docs: Document[]) => docs.filter((d): d is Quality => d.kind === "quality");

describe("quality-rule stage", () => {
  it("publishes quality documents, raises and clears the alarm, and asks run control to pause once", async () => {
    h = await hostStage(
      qualityNode,
      {
        input: "gainfit",
        field: "gain",
        low: 0.999e7,
        high: 1.049e7,
        onViolation: "pause",
        violationsBeforeAction: 2,
        publishIntervalMs: 0,
      },
      { name: "gain-ok" },
    );
    const out = capture(h.bus, "test/gain-ok/quality");
    const run = await h.start();
    const src = sourceStream(run, "gainfit", { gain: { dtype: "float64", shape: [] } });
    for (const g of [1.0e7, 1.2e7, 1.3e7, 1.25e7, 1.01e7])
      await h.bus.publish(pageOf(src, [1], { gain: [g] }));
    await h.stop();
    const q = qualities(await out.drain());
    expect(q.map((d) => [d.value, d.ok])).toEqual([
      [1.0e7, true],
      [1.2e7, false],
      [1.3e7, false],
      [1.25e7, false],
      [1.01e7, true],
      [null, null], // the final check at stop saw no new value
    ]);
    expect(q[0]).toMatchObject({ source: "gain-ok", field: "gain", low: 0.999e7, high: 1.049e7 });
    expect(h.alarms).toEqual([
      {
        id: "gain-ok:gain",
        severity: "error",
        message: "gain = 12000000 is outside the healthy range [9990000, 10490000]",
        active: true,
      },
      {
        id: "gain-ok:gain",
        severity: "error",
        message: "gain is back in the healthy range [9990000, 10490000]",
        active: false,
      },
    ]);
    expect(h.requests).toEqual([
      // After the second consecutive broken check, with the value of that check.
      {
        command: "pause",
        reason: "quality rule 'gain-ok': gain = 13000000 is outside the healthy range [9990000, 10490000]",
      },
    ]);
  });

  it("reduces the values of an interval (mean) and checks on a timer; an alarm left by a run is cleared by a healthy next run", async () => {
    h = await hostStage(qualityNode, {
      input: "s",
      field: "x",
      high: 10,
      reduce: "mean",
      onViolation: "stop",
      publishIntervalMs: 10,
    });
    const out = capture(h.bus, "test/quality-rule/quality");
    let run = await h.start();
    let src = sourceStream(run, "s", { x: { dtype: "float64", shape: [] } });
    await h.bus.publish(pageOf(src, [1, 2, 3], { x: [5, 20, 35] }));
    await until(() => h!.requests.length === 1, 5000, "a stop request");
    await h.stop();
    expect(h.requests[0]!.command).toBe("stop");
    expect(qualities(await out.drain()).find((d) => d.ok === false)!.value).toBe(20);
    run = await h.start(2);
    src = sourceStream(run, "s", { x: { dtype: "float64", shape: [] } });
    await h.bus.publish(pageOf(src, [1], { x: [1] }));
    await until(() => h!.alarms.length === 2, 5000, "the alarm to clear");
    await h.stop();
    expect(h.alarms.map((a) => a.active)).toEqual([true, false]);
  });

  it("refuses a rule without bounds or with low > high", () => {
    expect(qualityNode.params.safeParse({ input: "s", field: "x" }).error!.issues[0]!.message).toBe(
      "a quality rule needs low, high or both",
    );
    expect(
      qualityNode.params.safeParse({ input: "s", field: "x", low: 2, high: 1 }).error!.issues[0]!.message,
    ).toBe("low must not exceed high");
  });
});
