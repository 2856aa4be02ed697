// ROIs drawn on an image panel become live ROI sums with their own series panel, recorded in the next run's config.
import { afterEach, describe, expect, it } from "vitest";
import type { ComponentDef } from "../src/component/index.js";
import { roiNode } from "../src/analysis/index.js";
import { resultOf } from "../src/control/index.js";
import { decodeFrame } from "../src/server/index.js";
import { DEMO_COMPONENTS, startRig, type Rig } from "./dashboard-rig.js";
import { until } from "./helpers/instrument.js";

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const RECT = { kind: "rect", x0: 20, y0: 10, x1: 44, y1: 38 };

/** The series panel's latest points, read through the panel frame endpoint. */
async function points(r: Rig, id: string): Promise<number[]> {
  const res = await r.dash.app.inject({ url: `/api/panels/${id}/frame` });
  if (res.statusCode !== 200) return [];
  const f = decodeFrame(new Uint8Array(res.rawPayload));
  const s = (f.body as { series: { y: { data: Float64Array } }[] }).series[0]!;
  return [...s.y.data];
}

/** The demo rig with a roi-sum node ("rois") behind the camera panel. */
const startRoiNodeRig = (): Promise<Rig> =>
  startRig({
    panels: [{ type: "image", id: "cam", stream: "camera", field: "image", roiNode: "rois" }],
    components: [
      ...DEMO_COMPONENTS,
      {
        name: "rois",
        def: roiNode as ComponentDef<never>,
        params: { input: "camera", image: "image", publishIntervalMs: 100, carry: ["i0"] },
      },
    ],
  });

describe("live ROIs", () => {
  it("without a roi-sum node, the dashboard sums the ROI itself and records it in the next run", async () => {
    rig = await startRig({ panels: [{ type: "image", id: "cam", stream: "camera", field: "image" }] });
    const created = await rig.dash.app.inject({
      method: "POST",
      url: "/api/rois",
      payload: { panel: "cam", roi: RECT, label: "ring" },
    });
    expect(created.statusCode).toBe(201);
    const { panel, roi } = created.json();
    expect(panel).toMatchObject({ id: "roi1", type: "series", series: [{ stream: "roi1", field: "sum" }] });
    expect(roi.source).toEqual({ stream: "camera", field: "image" });
    expect(rig.dash.panels.map((p) => p.id)).toEqual(["cam", "roi1"]);

    const start = await rig.dash.app.inject({ method: "POST", url: "/api/run/start", payload: {} });
    expect(start.statusCode).toBe(200);
    const r = rig;
    const ys = await until(async () => {
      const p = await points(r, "roi1");
      return p.length >= 3 ? p : undefined;
    }, "ROI sums");
    // 24 x 28 pixels of at least the pedestal (~10 counts) each
    for (const y of ys) expect(y).toBeGreaterThan(24 * 28 * 5);
    await rig.dash.app.inject({ method: "POST", url: "/api/run/stop", payload: {} });
    const run = start.json().result.run as number;
    const entry = (await rig.dash.app.inject({ url: `/api/runs/${run}` })).json();
    expect(entry.config.run.dashboard.rois[0]).toMatchObject({ id: "roi1", roi: RECT });
  });

  it("with a roi-sum node, a drawn ROI goes to its set-roi action and is recorded as that component's override", async () => {
    rig = await startRoiNodeRig();
    const prep = await rig.dash.app.inject({ method: "POST", url: "/api/run/prepare", payload: {} });
    expect(prep.statusCode).toBe(200);
    const created = await rig.dash.app.inject({
      method: "POST",
      url: "/api/rois",
      payload: { panel: "cam", roi: RECT },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().panel.series).toEqual([{ stream: "rois", field: "roi1", label: "roi1" }]);
    // started from READY: the ROI was drawn after prepare, so start re-arms to record it
    const start = await rig.dash.app.inject({ method: "POST", url: "/api/run/start", payload: {} });
    expect(start.statusCode).toBe(200);
    const r = rig;
    await until(async () => (await points(r, "roi1")).length >= 2, "ROI sums from the roi-sum node");
    await rig.dash.app.inject({ method: "POST", url: "/api/run/stop", payload: {} });
    const entry = (await rig.dash.app.inject({ url: `/api/runs/${start.json().result.run}` })).json();
    expect(entry.config.run.components.rois.rois).toEqual([{ name: "roi1", ...RECT }]);

    const del = await rig.dash.app.inject({ method: "DELETE", url: "/api/rois/roi1", payload: {} });
    expect(del.statusCode).toBe(200);
    expect(rig.dash.panels.map((p) => p.id)).toEqual(["cam"]);
  });

  it("a ROI drawn before a run started from the CLI (not from the page) keeps running in that run", async () => {
    rig = await startRoiNodeRig();
    const created = await rig.dash.app.inject({
      method: "POST",
      url: "/api/rois",
      payload: { panel: "cam", roi: RECT },
    });
    expect(created.statusCode).toBe(201);
    // as `hutch run start` does: the core prepares from the file's configuration, which resets the roi-sum node
    await resultOf(rig.core.command("start", {}));
    const r = rig;
    await until(async () => (await points(r, "roi1")).length >= 2, "ROI sums after a start from the CLI");
    await resultOf(rig.core.command("stop", {}));
  });
});
