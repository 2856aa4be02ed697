// Online access: the newest N tags of named point detectors and ROI sums, bounded, from TypeScript and from Python.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { roiWorkerNode } from "../src/analysis/index.js";
import type { ComponentDef } from "../src/component/index.js";
import { resultOf } from "../src/control/index.js";
import { isHutchError } from "../src/core/index.js";
import { beamlineSimComponent } from "../src/sim/index.js";
import {
  OnlineAccessClient,
  beamlineSourceComponent,
  onlineAccessComponent,
  type OnlineStatus,
} from "../src/sources/index.js";
import { startRig, type Rig } from "./dashboard-rig.js";
import { until } from "./helpers/instrument.js";
import { freeTcpAddress } from "./helpers/ports.js";

const SCRIPT = fileURLToPath(new URL("../examples/python/online_access.py", import.meta.url));
const HISTORY = 50;

let rig: Rig;
let serve: string;
let client: OnlineAccessClient;
/** Truth by tag, from the bus: I0 of the point stream and roi1 of the ROI stage. */
const i0 = new Map<number, number>();
const roi1 = new Map<number, number>();

function python(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn("/usr/bin/python3", [SCRIPT, ...args]);
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const kill = setTimeout(() => p.kill("SIGKILL"), 20_000);
    p.on("exit", (code) => {
      clearTimeout(kill);
      resolve({ code, out, err });
    });
  });
}

beforeAll(async () => {
  const listen = await freeTcpAddress();
  serve = await freeTcpAddress();
  const comp = (name: string, def: unknown, params: Record<string, unknown>) => ({
    name,
    def: def as ComponentDef<never>,
    params,
  });
  rig = await startRig({
    components: [
      comp("online", onlineAccessComponent, {
        serve,
        history: HISTORY,
        streams: [{ stream: "point" }, { stream: "rois" }],
      }),
      comp("sim", beamlineSimComponent, {
        to: listen,
        rateHz: 60,
        detectors: [{ name: "mpccd1", width: 128, height: 64 }],
      }),
      comp("beamline", beamlineSourceComponent, {
        listen,
        detectors: [{ name: "mpccd1", width: 128, height: 64 }],
      }),
      comp("rois", roiWorkerNode, {
        input: "mpccd1",
        image: "frame",
        gainField: "gain",
        rois: [{ name: "roi1", kind: "rect", x0: 10, y0: 10, x1: 100, y1: 50 }],
        carry: ["tag"],
        publishIntervalMs: 50,
      }),
    ],
  });
  rig.bus.tap("demo/", ({ doc }) => {
    if (doc.kind !== "event-page") return;
    const tags = doc.data.tag?.data as ArrayLike<number> | undefined;
    if (!tags) return;
    const into = doc.stream === "point" ? i0 : doc.stream === "rois" ? roi1 : undefined;
    const v = doc.data[doc.stream === "point" ? "i0" : "roi1"]?.data as ArrayLike<number> | undefined;
    if (into && v) for (let i = 0; i < doc.n; i++) into.set(tags[i]!, v[i]!);
  });
  client = await OnlineAccessClient.connect(serve, { timeoutMs: 5000 });
  await resultOf(rig.core.command("start", {}));
  await until(() => roi1.size >= HISTORY + 20, "more ROI rows than the history holds", 20_000);
  await resultOf(rig.core.command("stop", {}));
}, 40_000);

afterAll(async () => {
  client?.close();
  await rig?.close();
});

describe("online access", () => {
  it("gives the newest N tags of named fields from TypeScript over the wire, bounded by the history", async () => {
    const r = await client.newest(20, ["i0", "roi1", "point.beam_status"]);
    expect(r.columns).toEqual(["point.i0", "rois.roi1", "point.beam_status"]);
    const newestTags = [...i0.keys()].sort((a, b) => a - b).slice(-20);
    expect([...r.tags]).toEqual(newestTags);
    for (let k = 0; k < 20; k++) {
      const tag = r.tags[k]!;
      expect(r.values.i0![k]).toBe(i0.get(tag));
      // a tag the ROI stage had not published when the run stopped reads NaN, never a stale value
      if (roi1.has(tag)) expect(r.values.roi1![k]).toBe(roi1.get(tag));
      else expect(r.values.roi1![k]).toBeNaN();
    }
    const all = await client.newest(10_000, ["i0"]);
    expect(all.tags.length).toBe(HISTORY);
    const status = await client.status();
    expect(status.history).toMatchObject({ tags: HISTORY, capacity: HISTORY, newestTag: newestTags.at(-1) });
    expect(status.running).toBe(false);
    expect(await client.names()).toEqual(
      expect.arrayContaining(["point.i0", "point.mpccd1_ok", "rois.roi1"]),
    );
    // the operator API's action gives the same rows
    const viaAction = (await resultOf(rig.core.call("online", "newest", { n: 20, names: ["i0"] }))) as {
      tags: number[];
      values: { i0: number[] };
    };
    expect(viaAction.tags).toEqual([...r.tags]);
    expect(viaAction.values.i0).toEqual([...r.values.i0!]);
  });

  it("names an unknown field, and times out (never hangs) without a server", async () => {
    await expect(client.newest(5, ["nope"])).rejects.toSatisfy(
      (e) =>
        isHutchError(e, "HUTCH_ERR_VALIDATION") && /no field 'nope' \(known: .*point\.i0/.test(String(e)),
    );
    const dead = await OnlineAccessClient.connect(await freeTcpAddress(), { timeoutMs: 200 });
    await expect(dead.status()).rejects.toSatisfy((e) => isHutchError(e, "HUTCH_ERR_TIMEOUT"));
    dead.close();
  });

  it("gives the same newest N tags to Python (examples/python/online_access.py) through the wire", async () => {
    const ts = await client.newest(30, ["i0", "roi1"]);
    const py = await python([serve, "--newest", "30", "--names", "i0,roi1", "--json"]);
    expect(py.err).toBe("");
    expect(py.code).toBe(0);
    const d = JSON.parse(py.out) as { tag: number[]; i0: number[]; roi1: (number | null)[] };
    expect(d.tag).toEqual([...ts.tags]);
    expect(d.i0).toEqual([...ts.values.i0!]);
    expect(d.roi1).toEqual([...ts.values.roi1!].map((x) => (Number.isNaN(x) ? null : x)));

    const st = await python([serve, "--status", "--json"]);
    expect(st.code).toBe(0);
    const s = JSON.parse(st.out) as OnlineStatus;
    expect(s.history.tags).toBe(HISTORY);
    expect(s.streams.map((x) => x.stream)).toEqual(["point", "rois"]);

    const bad = await python([serve, "--names", "nope"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/no field 'nope'.*\[HUTCH_ERR_VALIDATION\]/);
    expect(bad.err).not.toMatch(/Traceback/);
  });
});
