// A detector failing mid-run or left out: a clear status and an alarm naming it, while everything else goes on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { roiWorkerNode } from "../src/analysis/index.js";
import type { ComponentDef } from "../src/component/index.js";
import { resultOf } from "../src/control/index.js";
import type { Alarm, EventPage } from "../src/core/index.js";
import { beamlineSimComponent } from "../src/sim/index.js";
import {
  beamlineSourceComponent,
  onlineAccessComponent,
  type BeamlineSourceStatus,
  type OnlineStatus,
} from "../src/sources/index.js";
import { startRig, type Rig } from "./dashboard-rig.js";
import { until } from "./helpers/instrument.js";
import { freeTcpAddress } from "./helpers/ports.js";

let rig: Rig;
const alarms: Alarm[] = [];
const rows: Record<string, number> = { rois1: 0, rois2: 0 };
const points: EventPage[] = [];

const comp = (name: string, def: unknown, params: Record<string, unknown>) => ({
  name,
  def: def as ComponentDef<never>,
  params,
});
const rois = (input: string) => ({
  input,
  image: "frame",
  gainField: "gain",
  rois: [{ name: "roi1", kind: "rect", x0: 0, y0: 0, x1: 1024, y1: 512 }],
  carry: ["tag", "i0"],
  publishIntervalMs: 50,
});
const call = (component: string, action: string, params: unknown = {}) =>
  resultOf(rig.core.call(component, action, params));
const detectorAlarm = (name: string, active: boolean) =>
  until(
    () => alarms.find((a) => a.id === `beamline:detector:${name}` && a.active === active),
    `alarm ${name} ${active ? "raised" : "cleared"}`,
  );

beforeAll(async () => {
  const listen = await freeTcpAddress();
  rig = await startRig({
    components: [
      comp("online", onlineAccessComponent, {
        streams: [{ stream: "point" }, { stream: "rois1" }, { stream: "rois2" }],
        staleAfterMs: 400,
      }),
      comp("sim", beamlineSimComponent, {
        to: listen,
        rateHz: 60,
        detectors: [
          { name: "mpccd1", width: 256, height: 128 },
          { name: "mpccd2", width: 256, height: 128, pattern: "spot" },
        ],
      }),
      comp("beamline", beamlineSourceComponent, {
        listen,
        detectors: [
          { name: "mpccd1", width: 256, height: 128 },
          { name: "mpccd2", width: 256, height: 128 },
        ],
        missingAfterTags: 3,
      }),
      comp("rois1", roiWorkerNode, rois("mpccd1")),
      comp("rois2", roiWorkerNode, rois("mpccd2")),
    ],
  });
  rig.bus.tap("demo/", ({ doc }) => {
    if (doc.kind === "alarm") alarms.push(doc);
    if (doc.kind === "event-page" && doc.stream in rows) rows[doc.stream]! += doc.n;
    if (doc.kind === "event-page" && doc.stream === "point") points.push(doc);
  });
}, 30_000);

afterAll(async () => {
  await rig?.close();
});

describe("a beamline detector failing", () => {
  it("removed mid-run: an alarm names it, the status says so, every other detector and stage goes on", async () => {
    await resultOf(rig.core.command("start", {}));
    await until(() => rows.rois1! > 10 && rows.rois2! > 10, "ROI rows of both detectors");
    await call("sim", "fail-detector", { detector: "mpccd2" });
    const raised = await detectorAlarm("mpccd2", true);
    expect(raised.severity).toBe("error");
    expect(raised.source).toBe("beamline");
    expect(raised.message).toMatch(
      /detector 'mpccd2' stopped sending: no frame since tag \d+ \(last frame at tag \d+/,
    );

    // the rest goes on: mpccd1's ROI sums keep coming, the point stream flags mpccd2 as absent, the run is on
    const before = rows.rois1!;
    const from = points.length;
    await until(() => rows.rois1! > before + 10, "mpccd1 ROI rows after the failure");
    const later = points.slice(from);
    expect(later.every((p) => p.data.mpccd2_ok!.data[0] === 0 && p.data.mpccd1_ok!.data[0] === 1)).toBe(true);
    const status = await rig.core.status();
    expect(status.state).toBe("RUN");
    expect(status.components.every((c) => c.state === "RUN")).toBe(true);

    const src = (await call("beamline", "status")) as BeamlineSourceStatus;
    expect(src.running).toBe(true);
    expect(src.detectors.map((d) => [d.name, d.state])).toEqual([
      ["mpccd1", "ok"],
      ["mpccd2", "missing"],
    ]);
    expect(src.detectors[1]!.message).toMatch(/^detector 'mpccd2' stopped sending: no frame since tag/);
    expect(src.detectors[1]!.missingTags).toBeGreaterThanOrEqual(3);
    const online = await until(async () => {
      const s = (await call("online", "status")) as OnlineStatus;
      return s.problems.some((p) => /stream 'rois2' silent/.test(p)) ? s : undefined;
    }, "online status naming the silent stream");
    expect(online.ok).toBe(false);
    expect(online.running).toBe(true);
    expect(online.problems.some((p) => /error: detector 'mpccd2' stopped sending/.test(p))).toBe(true);
    expect(online.problems.some((p) => /rois1/.test(p))).toBe(false);

    // it comes back: the alarm clears and the status is ok again
    await call("sim", "restore-detector", { detector: "mpccd2" });
    const cleared = await detectorAlarm("mpccd2", false);
    expect(cleared.message).toMatch(
      /detector 'mpccd2' is back at tag \d+ after \d+ tag\(s\) without a frame/,
    );
    await until(async () => ((await call("online", "status")) as OnlineStatus).ok, "online status ok again");
    await resultOf(rig.core.command("stop", {}));
    expect((await rig.core.runs()).at(-1)!.exitStatus).toBe("success");
  });

  it("reporting an error, or left out from the start: named as such", async () => {
    alarms.length = 0;
    await call("sim", "fail-detector", { detector: "mpccd1", mode: "error" });
    await call("sim", "fail-detector", { detector: "mpccd2" });
    await resultOf(rig.core.command("start", {}));
    const err = await detectorAlarm("mpccd1", true);
    expect(err.message).toMatch(
      /detector 'mpccd1' reports an error since tag \d+ .*readout timeout \(simulated\)/,
    );
    const absent = await detectorAlarm("mpccd2", true);
    expect(absent.message).toMatch(/detector 'mpccd2' is absent from the beamline stream/);
    // without any detector, the point detectors still flow
    const n = points.length;
    await until(() => points.length > n + 5, "point detector events");
    expect((await rig.core.status()).state).toBe("RUN");
    await call("sim", "restore-detector", { detector: "mpccd1" });
    await call("sim", "restore-detector", { detector: "mpccd2" });
    await resultOf(rig.core.command("stop", {}));
    // the run's alarms are cleared when it ends (the next run checks again)
    expect(
      alarms.filter((a) => a.id.startsWith("beamline:detector:") && !a.active).length,
    ).toBeGreaterThanOrEqual(1);
  });
});
