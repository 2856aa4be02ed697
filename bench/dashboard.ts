// Event-to-paint latency of the dashboard in chromium at 10 updates/s (goal p95 <= 250 ms), beside a bare
// WebSocket page measured the same way in the same run (the floor the browser itself sets).
import Fastify from "fastify";
import websocket from "@fastify/websocket";
import type { Page } from "playwright-core";
import { StreamFactory, nowSec } from "../src/core/index.js";
import { DEMO_COMPONENTS, openBrowser, startRig } from "../test/dashboard-rig.js";

const UPDATES_PER_S = 10;
const SAMPLES = Number(process.argv[2] ?? 150);
const WARMUP = 10;

/** Percentile of sorted values. */
const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Waits until the page has `n` paint samples of `panel`, returns them (ms). */
async function samples(page: Page, panel: string, n: number): Promise<number[]> {
  for (;;) {
    const got = await page.evaluate(
      (id) =>
        ((globalThis as { __hutchPaints?: { panel: string; ms: number }[] }).__hutchPaints ?? [])
          .filter((s) => s.panel === id)
          .map((s) => s.ms),
      panel,
    );
    if (got.length >= n) return got;
    await page.waitForTimeout(200);
  }
}

/** The dashboard: the demo components running, a series and a histogram panel fed by a probe stream. */
async function measureHutch(): Promise<number[]> {
  const panels = [
    { type: "run-control" },
    { type: "components" },
    { type: "rate" },
    { type: "histogram", stream: "waveforms", field: "peak", bins: 100, range: [0, 2500] },
    { type: "image", stream: "camera", field: "image" },
    { type: "series", id: "probe", series: [{ stream: "probe", field: "v" }] },
    { type: "logs" },
  ];
  const rig = await startRig({ panels, server: { maxUpdateHz: UPDATES_PER_S }, components: DEMO_COMPONENTS });
  const url = await rig.dash.listen();
  const browser = await openBrowser();
  try {
    await browser.page.goto(url);
    await browser.page.getByTestId("cmd-start").click();
    await browser.page.getByTestId("rc-state").filter({ hasText: "RUN" }).waitFor();
    const f = new StreamFactory({ uid: "bench", run: 0, instrument: "demo" }, "probe", {
      v: { dtype: "float64", shape: [] },
    });
    await rig.bus.publish(f.descriptor);
    const t0 = performance.now();
    let i = 0;
    const timer = setInterval(() => {
      void rig.bus.publish(f.event({ v: Math.sin(i++ / 10) }, nowSec()));
    }, 1000 / UPDATES_PER_S);
    const got = await samples(browser.page, "probe", SAMPLES + WARMUP);
    clearInterval(timer);
    console.log(`hutch_duration_s: ${((performance.now() - t0) / 1000).toFixed(1)}`);
    return got.slice(WARMUP);
  } finally {
    await browser.close();
    await rig.close();
  }
}

const BARE_PAGE = `<!doctype html><canvas id=c width=300 height=100></canvas><script>
const ctx = c.getContext("2d"); const ws = new WebSocket("ws://" + location.host + "/ws"); ws.binaryType = "arraybuffer";
globalThis.__hutchPaints = [];
ws.onmessage = (e) => { const t = new Float64Array(e.data)[0]; ctx.clearRect(0, 0, 300, 100); ctx.fillText(String(t), 10, 50);
  requestAnimationFrame(() => __hutchPaints.push({ panel: "bare", ms: performance.timeOrigin + performance.now() - t * 1000 })); };
</script>`;

/** A bare WebSocket sending a timestamp at the same rate to a page that draws it on a canvas. */
async function measureBare(): Promise<number[]> {
  const app = Fastify({ logger: false });
  await app.register(websocket);
  let timer: NodeJS.Timeout | undefined;
  app.get("/", (_req, reply) => reply.type("text/html").send(BARE_PAGE));
  app.get("/ws", { websocket: true }, (socket) => {
    timer = setInterval(() => socket.send(new Float64Array([nowSec()])), 1000 / UPDATES_PER_S);
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const a = app.server.address();
  const browser = await openBrowser();
  try {
    await browser.page.goto(`http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}/`);
    return (await samples(browser.page, "bare", SAMPLES + WARMUP)).slice(WARMUP);
  } finally {
    clearInterval(timer);
    await browser.close();
    await app.close();
  }
}

const bare = (await measureBare()).sort((a, b) => a - b);
const hutch = (await measureHutch()).sort((a, b) => a - b);
console.log(`updates_per_s: ${UPDATES_PER_S}`);
console.log(`samples: ${hutch.length}`);
console.log(`reference_p50_ms: ${pct(bare, 50).toFixed(1)}`);
console.log(`reference_p95_ms: ${pct(bare, 95).toFixed(1)}`);
console.log(`hutch_p50_ms: ${pct(hutch, 50).toFixed(1)}`);
console.log(`hutch_p95_ms: ${pct(hutch, 95).toFixed(1)}`);
console.log(`hutch_max_ms: ${hutch.at(-1)!.toFixed(1)}`);
console.log(`goal_p95_ms: 250`);
console.log(`goal_met: ${pct(hutch, 95) <= 250 ? "yes" : "no"}`);
console.log(`ratio: ${(pct(hutch, 95) / pct(bare, 95)).toFixed(2)}`);
