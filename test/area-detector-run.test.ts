// Integration: arm -> triggered frames -> classified, background-subtracted frames in the run file (h5py), kept background.
import { afterEach, describe, expect, it } from "vitest";
import { AdFrameFlags } from "../src/codecs/index.js";
import { join } from "node:path";
import { startAreaRig, summarise, type AreaRig } from "./area-rig.js";
import { runPython } from "./helpers/h5py.js";

let rig: AreaRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const ARM = {
  command: "arm",
  experiment: "mecl1019923",
  run_name: "r7",
  num_skip_frames: 1,
  num_background_frames: 3,
  num_data_frames: 1,
  num_post_background_frames: 2,
  gain: 2,
} as const;

describe("area detector run", () => {
  it("takes one frame per trigger, classifies them, subtracts the background and stops when the plan is complete", async () => {
    rig = await startAreaRig({ det: { subtractPostShot: true } });
    const sent: number[] = [];
    rig.sims[0]!.onFrame = (m, ok) => ok && sent.push(m.triggerNumber);
    const r = await rig.arm(ARM);
    expect(r).toMatchObject({ ok: true });
    if (!r.ok) return;
    await rig.fire(0, 7, [5]);
    const entry = await rig.ended(r.run);
    expect(entry.exitStatus).toBe("success");
    expect(entry.reason).toBe("det1: all 7 frame(s) received");
    expect(sent).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const file = entry.files.find((f) => f.path.endsWith(".h5"))!.path;
    const s = await summarise(file, "det1");
    expect(s.frames.n).toBe(6); // the skip frame is not stored
    expect(s.frames.shape).toEqual([6, 48, 64]);
    expect(s.frames.kind).toEqual([1, 1, 1, 2, 3, 3]);
    expect(s.frames.event_number).toEqual([1, 2, 3, 4, 5, 6]);
    expect(s.frames.trigger).toEqual([2, 3, 4, 5, 6, 7]);
    expect(
      s.frames.flags.every((f) => (f & AdFrameFlags.triggered) !== 0 && (f & AdFrameFlags.freeRun) === 0),
    ).toBe(true);
    expect(s.subtracted).toMatchObject({ n: 3, dtype: "<f4", kind: [2, 3, 3] });
    expect(s.subtracted.max[0]).toBeGreaterThan(3000); // the beam spot (gain 2) on the shot frame
    expect(s.subtracted.max[1]).toBeLessThan(100); // post-shot background: only noise left
    expect(s.subtracted.min[1]).toBeLessThan(0); // negative values kept (float)
    expect(s.background).toMatchObject({ n: 1, origin: [0], from_run: [r.run], frames: [3] });
    expect(s.background.mean[0]).toBeGreaterThan(300);
    const kept = await runPython(
      "import numpy, sys; a = numpy.load(sys.argv[1]); print(a.dtype, a.shape, round(float(a.mean()), 3))",
      [join(rig.dataDir, "backgrounds", "mecl1019923", "det1_gain2_bin1.npy")],
    );
    expect(kept.trim()).toBe(
      `float32 (48, 64) ${s.background.mean[0]!.toFixed(3).replace(/0+$/, "").replace(/\.$/, ".0")}`,
    );
    expect(s.config.run.arm).toMatchObject({ experiment: "mecl1019923", gain: 2, num_background_frames: 3 });

    // The next run takes no background frames: it uses the one kept from the first run, and says so.
    const r2 = await rig.arm({
      ...ARM,
      run_name: "r8",
      num_skip_frames: 0,
      num_background_frames: 0,
      num_post_background_frames: 0,
    });
    expect(r2).toMatchObject({ ok: true });
    if (!r2.ok) return;
    await rig.fire(0, 1, [1]);
    const e2 = await rig.ended(r2.run);
    expect(e2.exitStatus).toBe("success");
    const s2 = await summarise(e2.files.find((f) => f.path.endsWith(".h5"))!.path, "det1");
    expect(s2.background).toMatchObject({ n: 1, origin: [1], from_run: [r.run], frames: [3] });
    expect(s2.subtracted.n).toBe(1);
    const logs = await rig.inst.core.logs({ last: 200 });
    expect(
      logs.some((l) => l.component === "det1" && l.message.includes(`background kept from run ${r.run}`)),
    ).toBe(true);
  });
});
