// LArPix routines and operator calls through the real instrument and operator API: progress, result, error, timeout.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { componentTypes } from "../src/app/component-types.js";
import { loadInstrument } from "../src/app/config.js";
import { startInstrument, type Instance } from "../src/app/instance.js";
import { connect, resultOf, type OperatorClient, type Progress } from "../src/control/index.js";
import { ErrorCode } from "../src/core/index.js";
import { LarpixBoardSim } from "../src/sim/larpix/index.js";
import { LarpixOperator, type OperatorProgress } from "../src/sources/larpix/index.js";
import { runPython } from "./helpers/h5py.js";
import { tempInstrument, until } from "./helpers/instrument.js";

const BIN = new URL("../bin/hutch.js", import.meta.url).pathname;
const portOf = (a: string) => Number(a.slice(a.lastIndexOf(":") + 1));

async function all(s: AsyncIterable<OperatorProgress>): Promise<OperatorProgress[]> {
  const out: OperatorProgress[] = [];
  for await (const p of s) out.push(p);
  return out;
}

function hutch(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (b: Buffer) => (out += b.toString()));
    p.stderr.on("data", (b: Buffer) => (err += b.toString()));
    p.on("close", (code) => res({ code, out, err }));
  });
}

describe("LArPix routines over the operator API", () => {
  let inst: Instance | undefined;
  let op: OperatorClient | undefined;
  let lp: LarpixOperator;
  let sim: LarpixBoardSim;
  let file: string;
  let dataDir: string;
  beforeAll(async () => {
    sim = await LarpixBoardSim.open({
      commandPort: 0,
      dataPort: 0,
      rateHz: 50,
      heartbeatIntervalMs: 50,
      seed: 5,
    });
    const t = await tempInstrument({
      instrument: "lp",
      components: [
        {
          name: "board",
          type: "larpix-board",
          params: {
            boards: [
              {
                name: "b1",
                commandPort: portOf(sim.commandAddress),
                dataPort: portOf(sim.dataAddress),
                ioGroup: 1,
              },
            ],
            pingIntervalMs: 100,
            lostAfterMs: 600,
          },
        },
        { name: "writer", type: "hdf5-writer", params: { directory: "runs" } },
      ],
    });
    file = t.file;
    dataDir = `${t.dir}/data`;
    inst = await startInstrument(loadInstrument(t.file, componentTypes()), { quiet: true });
    op = connect(t.control);
    lp = new LarpixOperator(op);
    await resultOf(lp.prepareRun());
  });
  afterAll(async () => {
    await op?.close();
    await inst?.close();
    await sim?.close();
  });

  it("lists the routines with their params, and `hello` streams progress then its result", async () => {
    const list = (await resultOf(lp.listRoutines())) as { name: string; params: { properties?: object } }[];
    expect(list.map((r) => r.name)).toEqual(["hello", "calibrate"]);
    expect(Object.keys(list[1]!.params.properties ?? {})).toContain("samples");
    const steps = await all(lp.runRoutine("hello", { name: "LArPix" }));
    expect(steps[0]).toMatchObject({ type: "progress", data: { message: "Hello, LArPix!" } });
    expect(steps.at(-1)).toEqual({
      type: "result",
      data: {
        routine: "hello",
        result: {
          greeting: "Hello, LArPix!",
          boards: ["b1"],
          chips: ["1-1-246", "1-1-245", "1-1-252", "1-1-243"],
        },
      },
    });
  });

  it("ends with a clear error for an unknown routine or bad params", async () => {
    const unknown = await all(lp.runRoutine("nope"));
    expect(unknown).toEqual([
      {
        type: "error",
        code: ErrorCode.Validation,
        message: "no routine 'nope' (routines: hello, calibrate)",
      },
    ]);
    const bad = (await all(lp.runRoutine("calibrate", { samples: "many" }))).at(-1) as Progress;
    expect(bad).toMatchObject({
      type: "error",
      code: ErrorCode.Validation,
      message: /routine calibrate: params.samples: .*number/,
    });
  });

  it("calibrate outside a run: pedestals close to the truth, a JSON copy, and the next run's file carries them", async () => {
    const steps = await all(lp.runRoutine("calibrate", { samples: 40, triggerHz: 1000, progressMs: 20 }));
    const result = steps.at(-1) as { type: "result"; data: { result: Record<string, unknown> } };
    expect(result.type).toBe("result");
    expect(steps.filter((p) => p.type === "progress").length).toBeGreaterThanOrEqual(2);
    const r = result.data.result as {
      channels: number;
      saved: { stream: string; file: string };
      pedestals: { chip: string; mean: number[]; rms: number[] }[];
    };
    expect(r.channels).toBe(128);
    expect(r.saved.file.startsWith(`${dataDir}/larpix/pedestal-`)).toBe(true);
    expect(existsSync(r.saved.file)).toBe(true);
    const json = JSON.parse(readFileSync(r.saved.file, "utf8")) as { columns: { mean: number[] } };
    expect(json.columns.mean.length).toBe(128);
    for (const p of r.pedestals) {
      const chip = Number(p.chip.split("-")[2]);
      p.mean.forEach((m, ch) => {
        const truth = sim.pedestalOf(chip, ch);
        // 40 samples: the mean is within 5 standard errors (noise plus the rounding to whole counts)
        expect(Math.abs(m - truth.mean)).toBeLessThan(
          (5 * Math.sqrt(truth.rms ** 2 + 1 / 12)) / Math.sqrt(40) + 0.02,
        );
        expect(p.rms[ch]).toBeGreaterThan(truth.rms * 0.5);
        expect(p.rms[ch]).toBeLessThan(truth.rms * 1.6);
      });
    }
    // The chips are back as they were: self-triggering on, forced trigger off.
    expect(sim.testPulseDivisor).toBe(0);
    expect(((await resultOf(lp.validateConfiguration())) as { ok: boolean }).ok).toBe(true);

    // The next run carries the calibration; a calibration during the run is saved in it at once.
    await resultOf(lp.beginRun());
    const inRun = (await resultOf(lp.runRoutine("calibrate", { samples: 10, triggerHz: 1000 }))) as {
      result: { saved: { stream: string; run: number } };
    };
    expect(inRun.result.saved).toMatchObject({ stream: "pedestal" });
    const ended = (await resultOf(lp.endRun())) as {
      run: number;
      files: { path: string }[];
      counts: Record<string, number>;
    };
    expect(inRun.result.saved.run).toBe(ended.run);
    expect(ended.counts.pedestal).toBe(256);
    const out = await runPython(
      String.raw`
import sys, json, h5py
with h5py.File(sys.argv[1], "r") as f:
    d = f["pedestal/data"]
    print(json.dumps({"n": d["mean"].shape[0], "mean": d["mean"][:128].tolist(), "samples": d["samples"][()].tolist(),
                      "chip": d["chip_id"][:4].tolist(), "pixel": d["pixel"][:3].tolist()}))
`,
      [ended.files[0]!.path],
    );
    const f = JSON.parse(out) as {
      n: number;
      mean: number[];
      samples: number[];
      chip: number[];
      pixel: number[];
    };
    expect(f.n).toBe(256);
    expect(f.mean.map((m) => Math.round(m * 100) / 100)).toEqual(r.pedestals.flatMap((p) => p.mean));
    expect(f.samples.slice(0, 128).every((s) => s === 40)).toBe(true);
    expect(f.samples.slice(128).every((s) => s === 10)).toBe(true);
    expect(f.chip).toEqual([246, 246, 246, 246]);
    expect(f.pixel).toEqual([0, 1, 2]);
  });

  it("runs from the command line: hutch routines, hutch routine hello name=CLI", async () => {
    const list = await hutch(["routines", "-c", file, "--json"]);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.out) as { name: string }[]).map((r) => r.name)).toEqual(["hello", "calibrate"]);
    const hello = await hutch(["routine", "hello", "name=CLI", "-c", file]);
    expect(hello.code).toBe(0);
    expect(hello.out).toContain("  Hello, CLI!");
    expect(hello.out).toContain('"greeting": "Hello, CLI!"');
    const bad = await hutch(["routine", "nope", "-c", file]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("hutch: no routine 'nope' (routines: hello, calibrate) [HUTCH_ERR_VALIDATION]");
  });

  it("times out: the routine's own deadline, and the operator's deadline (the call never hangs)", async () => {
    const own = (await all(lp.runRoutine("calibrate", { samples: 1000, triggerHz: 5, timeoutMs: 300 }))).at(
      -1,
    );
    expect(own).toMatchObject({
      type: "error",
      code: ErrorCode.Timeout,
      message: /calibrate: only 0 of 128 channels/,
    });
    const t0 = Date.now();
    const late = (
      await all(lp.runRoutine("calibrate", { samples: 1000, triggerHz: 5, timeoutMs: 1500 }, 300))
    ).at(-1);
    expect(late).toMatchObject({ type: "error", code: ErrorCode.Timeout });
    expect(Date.now() - t0).toBeLessThan(1500);
    // While it still runs in the component, a second routine is refused with the reason.
    const busy = (await all(lp.runRoutine("hello"))).at(-1);
    expect(busy).toMatchObject({
      type: "error",
      message: "routine 'calibrate' is running; 'hello' must wait until it ends",
    });
    await until(
      async () => ((await resultOf(lp.boards())) as { routine: string | null }).routine === null,
      "the routine to end",
    );
    expect(sim.testPulseDivisor).toBe(0); // restored after the timeout too
  });

  it("a board that stops answering ends the run; the run-stop and the catalog say why", async () => {
    await resultOf(lp.beginRun());
    sim.hang();
    const run = await until(async () => {
      const runs = await op!.runs();
      const last = runs.at(-1);
      return last?.exitStatus ? last : undefined;
    }, "the run to end");
    expect(run.exitStatus).toBe("fail");
    expect(run.reason).toMatch(
      /component 'board' failed: board 'b1' \(tcp:\/\/127\.0\.0\.1:\d+\) stopped answering: no reply and no data for \d+ ms \(limit 600 ms\)/,
    );
    const s = await op!.status();
    expect(s.state).toBe("ERROR");
  });
});
