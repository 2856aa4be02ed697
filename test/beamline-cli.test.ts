// `hutch sim beamline` sends real tag messages; `hutch online` reads an online-access server; sacla.yaml validates.
import { spawn, spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { Pull } from "zeromq";
import { nd, nowSec, RunFactory, StreamFactory } from "../src/core/index.js";
import {
  OnlineAccess,
  OnlineAccessOptionsSchema,
  OnlineServer,
  decodeTagMessage,
  type TagMessage,
} from "../src/sources/index.js";
import { InprocBus } from "../src/transport/index.js";
import { until } from "./helpers/instrument.js";
import { freeTcpAddress } from "./helpers/ports.js";

const BIN = new URL("../bin/hutch.js", import.meta.url).pathname;
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** Runs `hutch ...` asynchronously (the test process keeps serving its sockets meanwhile). */
function hutch(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args]);
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

describe("beamline commands", () => {
  it("examples/sacla.yaml validates", () => {
    const r = spawnSync(process.execPath, [BIN, "check", "examples/sacla.yaml"], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /beamline \(beamline-source\).*rois1 \(roi-sum-worker\).*avg1 \(frame-average\)/,
    );
  });

  it("hutch sim beamline sends N tags with point detectors and 512 x 1024 frames, and a scheduled fault", async () => {
    const pull = new Pull({ linger: 0 });
    await pull.bind("tcp://127.0.0.1:0");
    closers.push(() => pull.close());
    const got: TagMessage[] = [];
    pull.receiveTimeout = 15_000; // never hang: a missing tag fails the test
    const reading = (async () => {
      while (got.length < 12) got.push(decodeTagMessage(await pull.receive()));
    })();
    const r = await hutch(
      "sim",
      "beamline",
      "--to",
      pull.lastEndpoint!,
      "--tags",
      "12",
      "--rate",
      "100",
      "--first-tag",
      "1000",
      "--fail",
      "mpccd2@0:error",
    );
    expect(r.code).toBe(0);
    const stats = JSON.parse(r.out) as { lateTicks: number };
    expect(stats).toMatchObject({ tags: 12, sent: 12, dropped: 0, frames: 12 });
    await reading;
    // tags step by 2; pulses the simulator was too late for are skipped (never sent late), and counted
    const tags = got.map((m) => m.tag);
    expect(tags[0]).toBe(1000);
    expect(tags.every((t, i) => i === 0 || (t > tags[i - 1]! && (t - 1000) % 2 === 0))).toBe(true);
    expect(tags.at(-1)).toBe(1000 + 2 * (11 + stats.lateTicks));
    for (const m of got) {
      expect(Object.keys(m.points).sort()).toEqual(["beam_status", "delay_motor", "i0"]);
      expect(m.detectors[0]).toMatchObject({ name: "mpccd1", status: "ok" });
      expect(m.detectors[0]!.frame!.shape).toEqual([512, 1024]);
      expect(m.detectors[1]).toMatchObject({ name: "mpccd2", status: "error" });
    }
  });

  it("hutch sim beamline names a bad option", async () => {
    const r = await hutch("sim", "beamline", "--to", "tcp://127.0.0.1:1", "--fail", "nope@x");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--fail: expected DETECTOR\[@SECONDS\]/);
  });

  it("hutch online newest / status / names read an online-access server", async () => {
    const bus = new InprocBus("sacla");
    const access = new OnlineAccess(bus, OnlineAccessOptionsSchema.parse({ streams: [{ stream: "point" }] }));
    const srv = await OnlineServer.open(access, await freeTcpAddress(), "sacla");
    closers.push(
      () => bus.close(),
      () => access.close(),
      () => srv.close(),
    );
    const run = RunFactory.open({ run: 1, instrument: "sacla", plan: "t", config: {} });
    const s = new StreamFactory(run.info, "point", {
      tag: { dtype: "uint32", shape: [] },
      i0: { dtype: "float64", shape: [] },
    });
    await bus.publish(run.start);
    await bus.publish(
      s.page(Float64Array.of(nowSec(), nowSec(), nowSec()), {
        tag: nd(Uint32Array.of(10, 12, 14)),
        i0: nd(Float64Array.of(0.5, 0.25, 0.125)),
      }),
    );
    await until(() => access.history.size === 3, "3 tags held");
    const newest = await hutch("online", "newest", "--address", srv.endpoint, "-n", "2", "--names", "i0");
    expect(newest.err).toBe("");
    expect(newest.out.trim().split("\n")).toEqual(["tag\ti0", "12\t0.25", "14\t0.125"]);
    const names = await hutch("online", "names", "--address", srv.endpoint);
    expect(names.out.trim()).toBe("point.i0");
    await bus.publish(run.stop("success", "test"));
    const status = await hutch("online", "status", "--address", srv.endpoint);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({ ok: true, running: false, run: 1, history: { tags: 3 } });
    // an active alarm is a problem: status says it and exits 1
    const message = "detector 'mpccd2' stopped sending: no frame since tag 14";
    await bus.publish({
      kind: "alarm",
      time: nowSec(),
      id: "b:detector:mpccd2",
      source: "b",
      severity: "error",
      message,
      active: true,
    });
    const bad1 = await hutch("online", "status", "--address", srv.endpoint);
    expect(bad1.code).toBe(1);
    expect(JSON.parse(bad1.out)).toMatchObject({ ok: false, problems: [`error: ${message}`] });
    const bad = await hutch("online", "newest", "--address", srv.endpoint, "--names", "nope");
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/no field 'nope'.*\[HUTCH_ERR_VALIDATION\]/);
  });
});
