// Test rig for area detectors: an instrument (detectors + HDF5 writer) on the real core, simulators and triggers.
import { join } from "node:path";
import { loadInstrument } from "../src/app/config.js";
import { componentTypes } from "../src/app/component-types.js";
import { startInstrument, type Instance } from "../src/app/instance.js";
import type { ArmMessageInput } from "../src/codecs/index.js";
import type { CatalogEntry } from "../src/control/index.js";
import { AreaDetectorSim, TriggerGenerator, type AreaDetectorSimInput } from "../src/sim/index.js";
import { armToRun, type ArmOutcome } from "../src/relay/arm-to-run.js";
import { checkArmMessage } from "../src/codecs/index.js";
import { runPython } from "./helpers/h5py.js";
import { tempInstrument, until } from "./helpers/instrument.js";

/** A running rig. */
export interface AreaRig {
  readonly inst: Instance;
  readonly sims: AreaDetectorSim[];
  readonly dir: string;
  readonly dataDir: string;
  readonly file: string;
  readonly control: string;
  readonly publish: string;
  /** Validates an arm (as the relay does) and hands it to run control (prepare + start). */
  arm(arm: ArmMessageInput): Promise<ArmOutcome>;
  /** A trigger generator aimed at detector `i`'s trigger input. */
  triggers(i: number, o: { rateHz?: number; shots?: number[]; count?: number }): Promise<TriggerGenerator>;
  /**
   * Sends `n` triggers to detector `i` one at a time, each once the previous frame has been read out (so none falls
   * in a readout and is missed, however loaded the machine); resolves when the last frame has left the detector.
   */
  fire(i: number, n: number, shots?: number[]): Promise<void>;
  /** Waits until the catalog says run `run` ended. */
  ended(run: number, timeoutMs?: number): Promise<CatalogEntry>;
  close(): Promise<void>;
}

/** Options of the rig. */
export interface AreaRigOptions {
  readonly detectors?: number;
  readonly sim?: AreaDetectorSimInput;
  readonly det?: Record<string, unknown>;
  readonly writer?: Record<string, unknown>;
  readonly extra?: Record<string, unknown>[];
}

/** Starts simulators and an instrument with detectors det1..detN and an HDF5 writer. */
export async function startAreaRig(o: AreaRigOptions = {}): Promise<AreaRig> {
  const sims: AreaDetectorSim[] = [];
  const gens: TriggerGenerator[] = [];
  for (let i = 0; i < (o.detectors ?? 1); i++) {
    sims.push(
      await AreaDetectorSim.open({
        listen: "127.0.0.1:0",
        triggerListen: "127.0.0.1:0",
        width: 64,
        height: 48,
        readoutMs: 20,
        seed: i + 1,
        ...o.sim,
      }),
    );
  }
  const names = sims.map((_, i) => `det${i + 1}`);
  const t = await tempInstrument({
    instrument: "mec",
    components: [
      ...sims.map((s, i) => ({
        name: names[i],
        type: "area-detector",
        params: { detector: s.address, minFreeDiskBytes: 1e6, minFreeMemoryBytes: 1e6, ...o.det },
      })),
      { name: "writer", type: "hdf5-writer", params: { directory: "runs", ...o.writer } },
      ...(o.extra ?? []),
    ],
  });
  const inst = await startInstrument(loadInstrument(t.file, componentTypes()), { quiet: true });
  await until(
    async () => (await inst.core.status()).components.length === names.length + 1 + (o.extra?.length ?? 0),
    "registration",
  );
  const dataDir = join(t.dir, "data");
  return {
    inst,
    sims,
    dir: t.dir,
    dataDir,
    file: t.file,
    control: t.control,
    publish: t.publish,
    async arm(arm) {
      const c = checkArmMessage(arm);
      if (!c.ok) return { ok: false, reason: c.reasons.join("; ") };
      return armToRun(inst.core, c.arm, { detectors: names });
    },
    async triggers(i, to) {
      const g = await TriggerGenerator.open({ to: sims[i]!.triggerAddress, rateHz: 20, ...to });
      gens.push(g);
      return g;
    },
    async fire(i, n, shots = []) {
      const sim = sims[i]!;
      const g = await TriggerGenerator.open({ to: sim.triggerAddress, shots }); // numbers 1..n per call
      gens.push(g);
      for (let k = 0; k < n; k++) {
        const read = new Promise<void>((resolve) => {
          const prev = sim.onFrame;
          sim.onFrame = (m, ok) => {
            prev?.(m, ok);
            if (m.triggerNumber > 0) {
              sim.onFrame = prev;
              resolve();
            }
          };
        });
        await g.pulse();
        await read;
      }
    },
    async ended(run, timeoutMs = 15_000) {
      return until(
        async () => (await inst.core.runs()).find((r) => r.run === run && r.stopTime !== undefined),
        `run ${run} to end`,
        timeoutMs,
      );
    },
    async close() {
      for (const g of gens) await g.close();
      await inst.close();
      for (const s of sims) await s.close();
    },
  };
}

/** Summary of one detector's streams in a run file, as h5py reads it. */
export interface StreamSummary {
  frames: {
    n: number;
    shape: number[];
    kind: number[];
    event_number: number[];
    trigger: number[];
    flags: number[];
    max: number[];
  };
  subtracted: { n: number; dtype: string; kind: number[]; max: number[]; min: number[] };
  background: { n: number; origin: number[]; from_run: number[]; frames: number[]; mean: number[] };
  exit_status: string;
  reason: string;
  config: { run: { arm?: Record<string, unknown> } };
}

const SUMMARY = String.raw`
import sys, json, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
p = sys.argv[2]
def col(g, name): return f[g + "/data/" + name][()].tolist() if g in f else []
def n(g): return int(f[g + "/seq"].shape[0]) if g in f else 0
out = {
  "frames": {"n": n(p + "_frames"), "shape": list(f[p + "_frames/data/frame"].shape) if p + "_frames" in f else [],
    "kind": col(p + "_frames", "kind"), "event_number": col(p + "_frames", "event_number"),
    "trigger": col(p + "_frames", "trigger"), "flags": col(p + "_frames", "flags"),
    "max": [int(x.max()) for x in f[p + "_frames/data/frame"][()]] if n(p + "_frames") else []},
  "subtracted": {"n": n(p + "_subtracted"), "dtype": f[p + "_subtracted/data/subtracted"].dtype.str if p + "_subtracted" in f else "",
    "kind": col(p + "_subtracted", "kind"),
    "max": [float(x.max()) for x in f[p + "_subtracted/data/subtracted"][()]] if n(p + "_subtracted") else [],
    "min": [float(x.min()) for x in f[p + "_subtracted/data/subtracted"][()]] if n(p + "_subtracted") else []},
  "background": {"n": n(p + "_background"), "origin": col(p + "_background", "origin"),
    "from_run": col(p + "_background", "from_run"), "frames": col(p + "_background", "frames"),
    "mean": [float(x.mean()) for x in f[p + "_background/data/background"][()]] if n(p + "_background") else []},
  "exit_status": f.attrs.get("exit_status", ""), "reason": f.attrs.get("reason", ""),
  "config": json.loads(f.attrs["config"]),
}
print(json.dumps(out))
`;

/** Reads one detector's streams of a run file with h5py. */
export async function summarise(file: string, detector: string): Promise<StreamSummary> {
  return JSON.parse(await runPython(SUMMARY, [file, detector])) as StreamSummary;
}
