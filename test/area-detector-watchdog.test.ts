// Integration: the trigger watchdog aborts with "no trigger for N s"; idle-mode (free-running) frames are never taken.
import { afterEach, describe, expect, it } from "vitest";
import { AdFrameFlags } from "../src/codecs/index.js";
import type { RunStop } from "../src/core/index.js";
import { startAreaRig, summarise, type AreaRig } from "./area-rig.js";
import { until } from "./helpers/instrument.js";

let rig: AreaRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const counters = async (r: AreaRig, name = "det1") =>
  (await r.inst.core.status()).components.find((c) => c.name === name)!.counters;

describe("trigger watchdog", () => {
  it("aborts when triggers stop, and rejects every idle frame by time alone (the free-run marking is not used)", async () => {
    rig = await startAreaRig({
      sim: { idleAfterMs: 1500, idleRateHz: 15 },
      det: { rejectMarkedFreeRun: false }, // prove the watchdog alone keeps idle frames out
    });
    const stops: RunStop[] = [];
    rig.inst.bus.tap("mec/run/run-stop", ({ doc }) => doc.kind === "run-stop" && stops.push(doc));
    const idleSent: number[] = [];
    const sim = rig.sims[0]!;
    const r = await rig.arm({
      experiment: "e",
      run_name: "wd",
      num_skip_frames: 0,
      num_background_frames: 3,
      num_data_frames: 1,
      trigger_timeout_s: 0.4,
    });
    expect(r).toMatchObject({ ok: true });
    if (!r.ok) return;
    await rig.fire(0, 2);
    sim.onFrame = (m, sent) => sent && m.flags & AdFrameFlags.freeRun && idleSent.push(m.frameNumber);
    const entry = await rig.ended(r.run);
    expect(entry.exitStatus).toBe("abort");
    expect(entry.reason).toBe("det1: no trigger for 0.4 s");
    expect(stops.map((s) => [s.exitStatus, s.reason])).toEqual([["abort", "det1: no trigger for 0.4 s"]]);
    await until(() => idleSent.length >= 5, "the detector to free-run (idle mode)");
    const c = await until(async () => {
      const c = await counters(rig!);
      return c.frames_received! >= 2 + idleSent.length ? c : undefined;
    }, "idle frames to reach the source");
    expect(c.frames_accepted).toBe(2);
    expect(c.trigger_timeouts).toBe(1);
    expect(c.rejected_marked_free_run ?? 0).toBe(0);
    expect(c.rejected_not_armed).toBeGreaterThanOrEqual(idleSent.length);
    const s = await summarise(entry.files.find((f) => f.path.endsWith(".h5"))!.path, "det1");
    expect(s.exit_status).toBe("abort");
    expect(s.reason).toBe("det1: no trigger for 0.4 s");
    expect(s.frames.n).toBe(2);
    expect(s.frames.flags.some((f) => f & AdFrameFlags.freeRun)).toBe(false);
    expect(s.frames.trigger).toEqual([1, 2]);
    const alarms = await rig.inst.core.logs({ last: 100 });
    expect(
      alarms.some(
        (l) => l.component === "det1" && l.message.startsWith("no trigger for 0.4 s: acquisition aborted"),
      ),
    ).toBe(true);
  });

  it("arming a detector that is already free-running takes none of its idle frames", async () => {
    rig = await startAreaRig({
      sim: { idleAfterMs: 400, idleRateHz: 15 },
      det: { rejectMarkedFreeRun: false, idleMarginMs: 100 },
    });
    const sim = rig.sims[0]!;
    let idle = 0;
    sim.onFrame = (m, sent) => sent && m.flags & AdFrameFlags.freeRun && idle++;
    await until(() => idle >= 3, "the detector to free-run before the arm");
    const r = await rig.arm({
      experiment: "e",
      run_name: "idle",
      num_skip_frames: 0,
      num_background_frames: 1,
      num_data_frames: 1,
      trigger_timeout_s: 0.25,
    });
    expect(r).toMatchObject({ ok: true });
    if (!r.ok) return;
    await rig.fire(0, 1);
    const entry = await rig.ended(r.run);
    expect(entry.reason).toBe("det1: no trigger for 0.25 s");
    const c = await counters(rig);
    expect(c.frames_accepted).toBe(1); // the triggered frame only
    const s = await summarise(entry.files.find((f) => f.path.endsWith(".h5"))!.path, "det1");
    expect(s.frames.flags.map((f) => f & AdFrameFlags.freeRun)).toEqual([0]);
  });

  it("refuses a trigger timeout that would outlast the detector's idle delay, and warns when frames exceed the budget", async () => {
    rig = await startAreaRig({ sim: { idleAfterMs: 2000 }, det: { frameBudgetMs: 0.001 } });
    const bad = await rig.arm({ experiment: "e", run_name: "x", trigger_timeout_s: 1.5 });
    expect(bad.ok).toBe(false);
    expect(bad.ok || bad.reason).toMatch(
      /trigger_timeout_s 1\.5 must end at least 1000 ms before the detector's idle mode \(after 2 s without triggers\)/,
    );
    expect((await rig.inst.core.status()).state).toBe("STOP");
    const ok = await rig.arm({
      experiment: "e",
      run_name: "y",
      num_skip_frames: 0,
      num_background_frames: 1,
      num_data_frames: 0,
      trigger_timeout_s: 0.9,
    });
    expect(ok).toMatchObject({ ok: true });
    await rig.fire(0, 1);
    if (ok.ok) await rig.ended(ok.run);
    const logs = await rig.inst.core.logs({ last: 100 });
    expect(
      logs.some((l) =>
        /frame 0 took [\d.]+ ms to handle \(budget 0\.001 ms\): a trigger may have been missed/.test(
          l.message,
        ),
      ),
    ).toBe(true);
    expect((await counters(rig)).frames_over_budget).toBe(1);
  });
});
