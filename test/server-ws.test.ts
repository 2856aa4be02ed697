// The dashboard WebSocket: binary frames (layout, status, panels), throttling, a slow browser that never slows the DAQ.
import { afterEach, describe, expect, it } from "vitest";
import { nd, type Document } from "../src/core/index.js";
import { decodeFrame, encodeFrame, type MonitorFrame } from "../src/server/index.js";
import { WsSession, type FrameSocket } from "../src/server/ws-session.js";
import { StreamFactory } from "../src/core/index.js";
import { startRig, type Rig } from "./dashboard-rig.js";
import { until } from "./helpers/instrument.js";

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const PANELS = [
  { type: "run-control" },
  { type: "rate", id: "rate" },
  { type: "histogram", id: "peak", stream: "waveforms", field: "peak", bins: 40, range: [0, 3000] },
  { type: "image", id: "cam", stream: "camera", field: "image" },
  {
    type: "series",
    id: "temp",
    series: [{ stream: "counters", field: "temperature" }],
    quality: { field: "temperature", low: 0, high: 10 },
  },
];

describe("monitor frames", () => {
  it("round-trip typed arrays without copying, 8-byte aligned, other values as MessagePack", () => {
    const f32 = new Float32Array([1.5, 2.5, 3.5]);
    const u16 = new Uint16Array([1, 2, 3, 4, 5, 6]);
    const bytes = encodeFrame({
      panel: "p",
      kind: "k",
      t: 12.5,
      src: 12,
      body: { a: f32, img: { dtype: "uint16", shape: [2, 3], data: u16 }, s: "x", n: [1, 2], big: 5n },
    });
    const copy = new Uint8Array(bytes); // as the browser receives it: a fresh ArrayBuffer
    const f: MonitorFrame = decodeFrame(copy.buffer);
    const body = f.body as {
      a: { data: Float32Array };
      img: { shape: number[]; data: Uint16Array };
      s: string;
      n: number[];
      big: number;
    };
    expect(f.panel).toBe("p");
    expect(f.src).toBe(12);
    expect([...body.a.data]).toEqual([1.5, 2.5, 3.5]);
    expect(body.img.shape).toEqual([2, 3]);
    expect([...body.img.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(body.img.data.buffer).toBe(copy.buffer); // a view, not a copy
    expect(body.s).toBe("x");
    expect(body.n).toEqual([1, 2]);
    expect(body.big).toBe(5);
    expect(() => decodeFrame(new Uint8Array([1, 0, 0, 0]).buffer)).toThrow(/past the end/);
  });
});

describe("dashboard WebSocket", () => {
  it("sends layout and status first, then binary panel frames that update live during a run", async () => {
    rig = await startRig({ panels: PANELS });
    const frames: MonitorFrame[] = [];
    const ws = await rig.dash.app.injectWS("/ws");
    ws.on("message", (data: Buffer) => frames.push(decodeFrame(new Uint8Array(data))));
    try {
      await until(() => frames.some((f) => f.panel === "$status"), "status frame");
      expect(frames[0]!.panel).toBe("$layout");
      const layout = frames[0]!.body as { panels: { id: string }[] };
      expect(layout.panels.map((p) => p.id)).toEqual(["run-control-0", "rate", "peak", "cam", "temp"]);

      const started = await rig.dash.app.inject({ method: "POST", url: "/api/run/start", payload: {} });
      expect(started.statusCode).toBe(200);
      const hist = () => frames.filter((f) => f.panel === "peak" && f.kind === "hist");
      await until(() => hist().length >= 3, "histogram frames");
      const h = hist().at(-1)!.body as { counts: { data: Float64Array }; edges: { data: Float64Array } };
      expect(h.counts.data).toBeInstanceOf(Float64Array);
      expect(h.edges.data.length).toBe(41);
      expect(h.counts.data.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      const image = await until(() => frames.find((f) => f.panel === "cam"), "image frame");
      const img = image.body as { frame: { shape: number[]; data: Float32Array } };
      expect(img.frame.shape).toEqual([48, 64]);
      expect(img.frame.data).toBeInstanceOf(Float32Array);
      // temperature ~24 degC is outside [0, 10]: the server-side rule publishes quality and raises an alarm
      const alarm = await until(
        () =>
          frames.find(
            (f) =>
              f.panel === "$alarms" &&
              (f.body as { alarms: { active: boolean; id: string }[] }).alarms.some(
                (a) => a.active && a.id === "quality:counters.temperature",
              ),
          ),
        "quality alarm",
      );
      const q = (alarm.body as { quality: { source: string; field: string; ok: boolean }[] }).quality;
      expect(q).toContainEqual(
        expect.objectContaining({ source: "counters", field: "temperature", ok: false }),
      );
      const rate = await until(
        () => frames.find((f) => f.panel === "rate" && (f.body as { series: unknown[] }).series.length > 0),
        "rate frame",
      );
      expect((rate.body as { t: { data: Float64Array } }).t.data.length).toBe(120);
      await rig.dash.app.inject({ method: "POST", url: "/api/run/stop", payload: {} });
    } finally {
      ws.terminate();
    }
  });

  it("jobs panels show each job's latest state and progress", async () => {
    rig = await startRig({ panels: [{ type: "jobs", id: "jobs" }], components: [] });
    const jobs = new StreamFactory({ uid: "j", run: 0, instrument: "demo" }, "jobs", {
      id: { dtype: "string", shape: [] },
      label: { dtype: "string", shape: [] },
      state: { dtype: "string", shape: [] },
      done: { dtype: "float64", shape: [] },
      total: { dtype: "float64", shape: [] },
    });
    await rig.bus.publish(jobs.descriptor);
    await rig.bus.publish(
      jobs.event({ id: "t1", label: "run 7 -> archive", state: "running", done: 10, total: 100 }),
    );
    await rig.bus.publish(jobs.event({ id: "t1", done: 60 }));
    await rig.bus.publish(jobs.event({ id: "j2", label: "gain fit", state: "failed" }));
    const r = rig;
    const rows = await until(async () => {
      const res = await r.dash.app.inject({ url: "/api/panels/jobs/frame" });
      if (res.statusCode !== 200) return undefined;
      const b = decodeFrame(new Uint8Array(res.rawPayload)).body as {
        rows: { id: string; done: number; label: string; state: string }[];
      };
      return b.rows.length === 2 && b.rows.find((x) => x.id === "t1")?.done === 60 ? b.rows : undefined;
    }, "job rows");
    expect(rows[0]).toMatchObject({ id: "j2", state: "failed" });
    expect(rows[1]).toMatchObject({ id: "t1", label: "run 7 -> archive", state: "running", done: 60 });
  });

  it("a browser that does not read never slows publishers: frames are skipped (latest-only), counted", async () => {
    rig = await startRig({ panels: PANELS, components: [] });
    const sent: Uint8Array[] = [];
    const stuck: FrameSocket = {
      readyState: 1,
      bufferedAmount: 64 * 1024 * 1024, // a browser that stopped reading
      send: (d) => sent.push(d),
      close: () => undefined,
      on: () => undefined,
    };
    const counters = { framesSent: 0, framesSkipped: 0 };
    const session = new WsSession(stuck, rig.dash.hub, { maxUpdateHz: 50 }, counters);
    const run = { uid: "u1", run: 1, instrument: "demo" };
    const wf = new StreamFactory(run, "waveforms", { peak: { dtype: "float32", shape: [] } });
    const docs: Document[] = [wf.descriptor];
    for (let i = 0; i < 2000; i++)
      docs.push(wf.page(new Float64Array(10).fill(i), { peak: nd(new Float32Array(10).fill(100 + i)) }));
    for (const d of docs) await rig.bus.publish(d);
    await until(() => counters.framesSkipped > 0, "a skipped flush");
    expect(sent.length).toBe(0);
    const sub = rig.bus.stats().subscriptions.find((s) => s.name === "dashboard:waveforms")!;
    expect(sub.stats.blocked).toBe(0);
    session.close();
  });
});
