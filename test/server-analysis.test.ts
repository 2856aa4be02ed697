// The dashboard on the analysis nodes' streams: a histogram node's counts, a fit node's curve, a quality rule's flags.
import { afterEach, describe, expect, it } from "vitest";
import type { ComponentDef } from "../src/component/index.js";
import { fitNode, histogramNode, qualityNode } from "../src/analysis/index.js";
import { decodeFrame, type MonitorFrame } from "../src/server/index.js";
import { DEMO_COMPONENTS, startRig, type Rig } from "./dashboard-rig.js";
import { until } from "./helpers/instrument.js";

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function frame(r: Rig, id: string): Promise<MonitorFrame | undefined> {
  const res = await r.dash.app.inject({ url: `/api/panels/${id}/frame` });
  return res.statusCode === 200 ? decodeFrame(new Uint8Array(res.rawPayload)) : undefined;
}

const node = (name: string, def: unknown, params: Record<string, unknown>) => ({
  name,
  def: def as ComponentDef<never>,
  params,
});

describe("panels on analysis node streams", () => {
  it("shows the histogram node's counts with the fit node's curve, and the quality rule's verdict flags the panel", async () => {
    rig = await startRig({
      panels: [
        { type: "histogram", id: "peak", stream: "peak-hist", field: "counts", fit: { stream: "peak-fit" } },
        {
          type: "series",
          id: "mu",
          series: [{ stream: "peak-fit", field: "mu" }],
          quality: { field: "mu", source: "mu-rule" },
        },
        { type: "alarms" },
      ],
      components: [
        DEMO_COMPONENTS[0]!,
        node("peak-hist", histogramNode, {
          input: "waveforms",
          field: "peak",
          bins: 50,
          range: [0, 2500],
          publishIntervalMs: 100,
        }),
        node("peak-fit", fitNode, {
          input: "peak-hist",
          model: "gauss",
          range: [400, 1200],
          publishIntervalMs: 100,
        }),
        node("mu-rule", qualityNode, {
          input: "peak-fit",
          field: "mu",
          low: 5000,
          high: 6000,
          publishIntervalMs: 100,
        }),
      ],
    });
    const start = await rig.dash.app.inject({ method: "POST", url: "/api/run/start", payload: {} });
    expect(start.statusCode).toBe(200);
    const r = rig;
    const hist = await until(async () => {
      const f = await frame(r, "peak");
      const b = f?.body as
        | {
            counts?: { data: Float64Array };
            fit?: { x: { data: Float64Array }; params: Record<string, number> };
          }
        | undefined;
      return b?.counts && b.fit ? b : undefined;
    }, "histogram with fit");
    expect(hist.counts!.data.length).toBe(50);
    expect(hist.fit!.x.data.length).toBe(50); // the node's curve at the bin centres
    expect(hist.fit!.params.mu).toBeGreaterThan(600);
    expect(hist.fit!.params.mu).toBeLessThan(1000);
    // mu ~800 is outside the rule's [5000, 6000]: the quality document names the rule and the field
    const alarms = await until(async () => {
      const b = (await frame(r, "$alarms"))?.body as {
        quality: { source: string; field: string; ok: boolean | null }[];
        alarms: { active: boolean }[];
      };
      return b?.quality.some((q) => q.source === "mu-rule" && q.field === "mu" && q.ok === false)
        ? b
        : undefined;
    }, "quality verdict");
    expect(alarms.alarms.some((a) => a.active)).toBe(true);
    await rig.dash.app.inject({ method: "POST", url: "/api/run/stop", payload: {} });
  });
});
