// The dashboard in Debian's chromium: run control from the page, live rates and histograms, a ROI drawn with the
// mouse, quality turning panels red with alarms, the scan grid, and a full-page screenshot in test-output/.
import { existsSync, mkdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { StreamFactory, nd, nowSec } from "../src/core/index.js";
import { openBrowser, startRig, type Rig } from "./dashboard-rig.js";
import { until } from "./helpers/instrument.js";

const CELLS = ["θ0", "θ10 φ0", "θ10 φ90", "θ10 φ180", "θ10 φ270", "θ20 φ0"];
const PANELS = [
  { type: "run-control" },
  { type: "components" },
  { type: "rate", id: "rate" },
  {
    type: "histogram",
    id: "peak",
    stream: "waveforms",
    field: "peak",
    bins: 60,
    range: [0, 2500],
    fit: { stream: "peak-fit" },
  },
  { type: "image", id: "cam", stream: "camera", field: "image" },
  {
    type: "series",
    id: "temp",
    title: "Temperature",
    series: [{ stream: "counters", field: "temperature" }],
    quality: { field: "temperature", low: 0, high: 10 },
  },
  {
    type: "series",
    id: "gain",
    title: "PMT gain",
    series: [{ stream: "gain-fit", field: "gain" }],
    quality: { field: "gain", source: "gain-rule" },
  },
  {
    type: "scan-grid",
    id: "scan",
    stream: "scan",
    cells: CELLS,
    columns: 3,
    healthy: [0.999e7, 1.049e7],
    hist: "hist",
    histRange: [0, 5],
    reference: { stream: "scan-ref" },
  },
  { type: "alarms" },
  { type: "logs", span: 8 },
];

let rig: Rig;
let browser: Awaited<ReturnType<typeof openBrowser>>;
let page: Page;

beforeAll(async () => {
  if (!existsSync("web/dist/index.html"))
    throw new Error("the page is not built: run `npm run build` (vite -> web/dist) first");
  rig = await startRig({ panels: PANELS });
  const url = await rig.dash.listen();
  browser = await openBrowser();
  page = browser.page;
  await page.goto(url);
});

afterAll(async () => {
  await browser?.close();
  await rig?.close();
});

const text = async (testId: string, within = page.locator("body")) =>
  (await within.getByTestId(testId).first().textContent()) ?? "";

describe("dashboard in chromium", () => {
  it("prepares through the form generated from the components' params schemas", async () => {
    await page.getByTestId("rc-state").filter({ hasText: "STOP" }).waitFor();
    await page.getByTestId("cmd-prepare").click();
    const form = page.getByTestId("config-form");
    await form.locator('input[name="digitiser.rateHz"]').fill("300");
    await form.getByTestId("form-prepare").click();
    await page.getByTestId("rc-state").filter({ hasText: "READY" }).waitFor();
    const cfg = (await rig.core.status()).config as { components?: Record<string, Record<string, unknown>> };
    expect(cfg.components?.digitiser?.rateHz).toBe(300);
  });

  it("loads, starts a run from the page, shows rates and histograms updating, a ROI drawn with the mouse, quality alarms", async () => {
    expect(await page.locator("section.panel").count()).toBe(PANELS.length);
    expect(await page.locator(".instrument b").textContent()).toBe("demo");

    await page.getByTestId("cmd-start").click();
    await page.getByTestId("rc-state").filter({ hasText: "RUN" }).waitFor();
    expect(await text("rc-run")).toMatch(/^\d+$/);
    expect(
      ((await rig.core.runs()).at(-1)?.config.run as { components: { digitiser: { rateHz: number } } })
        .components.digitiser.rateHz,
    ).toBe(300);

    // rates and histograms update live
    const hist = page.locator('[data-panel="peak"]');
    await hist.getByTestId("hist-entries").waitFor();
    const entries = async () =>
      Number((await text("hist-entries", hist)).replace(/[^\d.]/g, "")) *
      ((await text("hist-entries", hist)).endsWith("k") ? 1000 : 1);
    const first = await entries();
    await until(async () => (await entries()) > first, "histogram entries to grow");
    await until(
      async () =>
        // The busiest streams are named over the plot, every stream in its tooltip.
        /waveforms [1-9]/.test(
          (await page.locator('[data-panel="rate"] .plot-stats').getAttribute("title")) ?? "",
        ),
      "a waveform rate",
    );

    // a fit node's result is drawn over the histogram
    const run = { uid: "fit-run", run: 0, instrument: "demo" };
    const fit = new StreamFactory(run, "peak-fit", {
      amplitude: { dtype: "float64", shape: [] },
      mu: { dtype: "float64", shape: [] },
      sigma: { dtype: "float64", shape: [] },
      mu_err: { dtype: "float64", shape: [] },
    });
    await rig.bus.publish(fit.descriptor);
    await rig.bus.publish(fit.event({ amplitude: 150, mu: 800, sigma: 120, mu_err: 2.5 }));
    await until(async () => /mu 800 ± 2\.5/.test(await text("hist-fit", hist).catch(() => "")), "fit legend");

    // a ROI drawn with the mouse becomes a live ROI series in a new panel
    const canvas = page.locator('[data-panel="cam"]').getByTestId("image-canvas");
    await page.locator('[data-panel="cam"]').getByTestId("roi-rect").click();
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.42, box.y + box.height * 0.3);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.58, box.y + box.height * 0.7, { steps: 5 });
    await page.mouse.up();
    const roiPanel = page.locator('[data-panel="roi1"]');
    await roiPanel.waitFor();
    const firstValue = await until(
      async () =>
        (await roiPanel
          .getByTestId("series-last")
          .textContent()
          .catch(() => null)) ?? undefined,
      "ROI series",
    );
    expect(firstValue).toMatch(/sum [\d.,e+]+/);
    await until(
      async () => (await roiPanel.getByTestId("series-last").textContent()) !== firstValue,
      "ROI series to update",
    );

    // the server-side rule (temperature ~24 outside [0, 10]) turns its panel red and raises an alarm
    await page.locator('[data-panel="temp"][data-quality="bad"]').waitFor();
    await until(async () => Number(await text("alarm-count")) >= 1, "alarm count");
    await page
      .getByTestId("alarms")
      .locator('[data-active="yes"]', { hasText: "temperature" })
      .first()
      .waitFor();
    // a quality document from an analysis quality node turns the panel it names red too
    await rig.bus.publish({
      kind: "quality",
      time: nowSec(),
      source: "gain-rule",
      field: "gain",
      value: 0.9e7,
      low: 0.999e7,
      high: 1.049e7,
      ok: false,
    });
    await page.locator('[data-panel="gain"][data-quality="bad"]').waitFor();
    expect(await page.locator('[data-panel="rate"]').getAttribute("data-quality")).toBe("ok");

    const paints = await page.evaluate(
      () => (globalThis as { __hutchPaints?: unknown[] }).__hutchPaints?.length ?? 0,
    );
    expect(paints).toBeGreaterThan(5);
  });

  it("colours scan cells against the healthy range and opens a cell's histogram over its reference", async () => {
    const run = { uid: "scan-run", run: 0, instrument: "demo" };
    const fields = {
      cell: { dtype: "uint8" as const, shape: [] },
      value: { dtype: "float64" as const, shape: [] },
      hist: { dtype: "float64" as const, shape: [20] },
    };
    const scan = new StreamFactory(run, "scan", fields);
    const ref = new StreamFactory(run, "scan-ref", fields);
    const h = (peak: number) =>
      nd(Float64Array.from({ length: 20 }, (_, i) => 100 * Math.exp(-(((i - peak) / 3) ** 2))));
    for (const d of [scan.descriptor, ref.descriptor]) await rig.bus.publish(d);
    await rig.bus.publish(scan.event({ cell: 0, value: 1.02e7, hist: h(8) }));
    await rig.bus.publish(scan.event({ cell: 1, value: 1.2e7, hist: h(10) }));
    await rig.bus.publish(ref.event({ cell: 0, value: 1.0e7, hist: h(7) }));
    const cell = (i: number) => page.locator('[data-panel="scan"]').getByTestId(`cell-${i}`);
    await until(async () => (await cell(0).getAttribute("data-verdict")) === "ok", "green cell");
    expect(await cell(1).getAttribute("data-verdict")).toBe("bad");
    expect(await cell(2).getAttribute("data-verdict")).toBe("none");
    await cell(0).click();
    const modal = page.getByTestId("cell-modal");
    await modal.locator("canvas").first().waitFor();
    expect(await modal.locator(".u-legend").textContent()).toMatch(/this scan.*reference/);
    await modal.getByText("close").click();
  });

  it("stops the run from the page; the next run records the ROI; saves a full-page screenshot", async () => {
    await page.getByTestId("cmd-stop").click();
    await page.getByTestId("rc-state").filter({ hasText: "STOP" }).waitFor();
    expect(await text("rc-msg")).toMatch(/stop: run \d+ success/);
    expect((await rig.core.runs()).at(-1)?.exitStatus).toBe("success");
    await page.getByTestId("cmd-start").click();
    await page.getByTestId("rc-state").filter({ hasText: "RUN" }).waitFor();
    const next = (await rig.core.runs()).at(-1)!;
    expect(
      (next.config.run as { dashboard?: { rois: { id: string }[] } }).dashboard?.rois.map((r) => r.id),
    ).toEqual(["roi1"]);
    await page.waitForTimeout(1500); // let the panels fill for the screenshot (not for synchronisation)
    await page.evaluate(() =>
      (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0),
    );
    mkdirSync("test-output", { recursive: true });
    await page.screenshot({ path: "test-output/dashboard.png", fullPage: true });
  });
});
