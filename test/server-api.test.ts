// The dashboard's REST API through fastify's inject(): access rules, 400s that name the problem, a run, /metrics.
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode, isHutchError } from "../src/core/index.js";
import { buildServer, type ServerSettings } from "../src/server/index.js";
import { startRig, type Rig } from "./dashboard-rig.js";
import { until } from "./helpers/instrument.js";

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const PANELS = [
  { type: "run-control" },
  { type: "histogram", id: "peak", stream: "waveforms", field: "peak", bins: 50, range: [0, 3000] },
];

async function rigWith(server: Partial<ServerSettings> = {}): Promise<Rig> {
  rig = await startRig({ panels: PANELS, server });
  return rig;
}

const post = (r: Rig, url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  r.dash.app.inject({
    method: "POST",
    url,
    headers,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

describe("dashboard API access", () => {
  it("on loopback, control and viewing need no token", async () => {
    const r = await rigWith();
    expect((await r.dash.app.inject({ url: "/api/status" })).statusCode).toBe(200);
    const res = await post(r, "/api/run/prepare", {});
    expect(res.statusCode).toBe(200);
    expect(res.json().result.state).toBe("READY");
  });

  it("bound off loopback, control without the token is refused, viewing is not", async () => {
    const r = await rigWith({ host: "0.0.0.0", token: "s3cret" });
    const none = await post(r, "/api/run/prepare", {});
    expect(none.statusCode).toBe(401);
    expect(none.json().error.message).toMatch(/needs the token.*0\.0\.0\.0/);
    const wrong = await post(r, "/api/run/prepare", {}, { authorization: "Bearer nope" });
    expect(wrong.statusCode).toBe(403);
    expect((await r.dash.app.inject({ url: "/api/status" })).statusCode).toBe(200);
    expect((await r.dash.app.inject({ method: "POST", url: "/api/rois", payload: {} })).statusCode).toBe(401);
    const ok = await post(r, "/api/run/prepare", {}, { authorization: "Bearer s3cret" });
    expect(ok.statusCode).toBe(200);
    expect((await r.core.status()).state).toBe("READY");
  });

  it("off loopback without a configured token, control is refused and says which setting is missing", async () => {
    const r = await rigWith({ host: "0.0.0.0" });
    const res = await post(r, "/api/run/start", {});
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toMatch(/server\.token is not set/);
    expect((await r.core.status()).state).toBe("STOP");
  });

  it("with viewerToken, viewing needs the token too (header or ?token= for the WebSocket)", async () => {
    const r = await rigWith({ host: "10.1.2.3", token: "t0k", viewerToken: true });
    expect((await r.dash.app.inject({ url: "/api/status" })).statusCode).toBe(401);
    expect((await r.dash.app.inject({ url: "/metrics" })).statusCode).toBe(401);
    expect(
      (await r.dash.app.inject({ url: "/api/status", headers: { "x-hutch-token": "t0k" } })).statusCode,
    ).toBe(200);
    expect((await r.dash.app.inject({ url: "/api/status?token=t0k" })).statusCode).toBe(200);
  });
});

describe("dashboard API validation", () => {
  it("bad bodies get a 400 naming the problem", async () => {
    const r = await rigWith();
    const cases: [string, unknown, RegExp][] = [
      [
        "/api/run/prepare",
        { components: { digitiser: { rateHz: -5 } } },
        /components\.digitiser\.rateHz.*-5/,
      ],
      ["/api/run/prepare", { components: { nosuch: {} } }, /components\.nosuch: no component named 'nosuch'/],
      ["/api/run/prepare", { plan: 7 }, /plan/],
      ["/api/run/prepare", { colour: "red" }, /colour/],
      ["/api/run/stop", { reason: 5 }, /stop: reason/],
      ["/api/run/jump", {}, /unknown command 'jump'.*prepare/],
      [
        "/api/rois",
        { panel: "peak", roi: { kind: "rect", x0: 0, y0: 0, x1: 4, y1: 4 } },
        /no image panel 'peak'/,
      ],
      ["/api/rois", { panel: "x", roi: { kind: "polygon", points: [[0, 0]] } }, /roi: roi\.points.*3 points/],
      ["/api/components/digitiser/actions/x", { params: 1, extra: true }, /extra/],
    ];
    for (const [url, body, re] of cases) {
      const res = await post(r, url, body);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code, url).toBe(ErrorCode.Validation);
      expect(res.json().error.message, url).toMatch(re);
    }
    const bad = await r.dash.app.inject({
      method: "POST",
      url: "/api/run/stop",
      headers: { "content-type": "application/json" },
      payload: "{not json",
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/JSON/i);
    expect((await r.core.status()).state).toBe("STOP");
  });

  it("a command not allowed in the current state is a 409 naming the state", async () => {
    const r = await rigWith();
    const res = await post(r, "/api/run/pause", {});
    expect(res.statusCode).toBe(409);
    expect(res.json().error.message).toMatch(/cannot pause in state STOP/);
  });

  it("a bad panel in the instrument file is a config error naming the panel and field", async () => {
    const r = await rigWith();
    const err = await buildServer({
      core: r.core,
      bus: r.bus,
      instrument: "demo",
      panels: [{ type: "rate" }, { type: "histogram", stream: "w", field: "f", bins: -1 }],
    }).catch((e: unknown) => e);
    expect(isHutchError(err, ErrorCode.Config)).toBe(true);
    expect((err as Error).message).toMatch(/^panels\[1\]\.bins/);
  });
});

describe("dashboard API run control and metrics", () => {
  it("prepare with overrides, start, stop; the run configuration records them; /metrics has the counters", async () => {
    const r = await rigWith();
    const prep = await post(r, "/api/run/prepare", {
      plan: "calib",
      components: { digitiser: { rateHz: 300 } },
    });
    expect(prep.statusCode).toBe(200);
    const start = await post(r, "/api/run/start", {});
    expect(start.statusCode).toBe(200);
    const run = start.json().result.run as number;
    await until(async () => ((await r.core.status()).run?.counts.waveforms ?? 0) > 40, "waveforms");
    const stop = await post(r, "/api/run/stop", { reason: "test done" });
    expect(stop.statusCode).toBe(200);
    expect(stop.json().result.exitStatus).toBe("success");
    const entry = (await r.dash.app.inject({ url: `/api/runs/${run}` })).json();
    expect(entry.plan).toBe("calib");
    expect(entry.config.run.components.digitiser.rateHz).toBe(300);
    expect(entry.reason).toBe("test done");

    await until(
      async () =>
        (await r.core.status()).components.every(
          (c) => (c.counters.events ?? 0) > 0 || c.name !== "digitiser",
        ),
      "heartbeat counters",
    );
    const m = await r.dash.app.inject({ url: "/metrics" });
    expect(m.statusCode).toBe(200);
    expect(m.headers["content-type"]).toMatch(/text\/plain/);
    expect(m.body).toMatch(
      /hutch_component_counter\{instrument="demo",component="digitiser",counter="events"\} [1-9]/,
    );
    expect(m.body).toMatch(/hutch_component_up\{instrument="demo",component="camera"\} 1/);
    expect(m.body).toMatch(/hutch_system_state\{instrument="demo",state="STOP"\} 1/);
    expect(m.body).toMatch(
      /hutch_bus_subscription_dropped_total\{instrument="demo",subscription="dashboard:waveforms"/,
    );
    expect(m.body).toMatch(/# TYPE hutch_bus_published_total counter/);

    const logs = (await r.dash.app.inject({ url: "/api/logs?level=info&last=50" })).json() as {
      message: string;
    }[];
    expect(logs.some((l) => /run \d+ ended/.test(l.message))).toBe(true);
    expect((await r.dash.app.inject({ url: "/api/logs?level=loud" })).statusCode).toBe(400);
    const cfg = (await r.dash.app.inject({ url: "/api/config" })).json();
    expect(cfg.components[0].schema.properties.rateHz.type).toBe("number");
    expect(cfg.panels.map((p: { id: string }) => p.id)).toEqual(["run-control-0", "peak"]);
  });
});
