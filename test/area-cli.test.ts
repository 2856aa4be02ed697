// The MEC preset and the area-detector commands: examples/mec.yaml validates; the simulator runs from the CLI.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { instrumentForwards, progressBar } from "../src/app/commands/area-detector.js";
import { componentTypes } from "../src/app/component-types.js";
import { loadInstrument } from "../src/app/config.js";
import { AreaDetectorParamsSchema } from "../src/sources/index.js";
import { TransferParamsSchema } from "../src/storage/index.js";

const MEC = fileURLToPath(new URL("../examples/mec.yaml", import.meta.url));
const BIN = fileURLToPath(new URL("../bin/hutch.js", import.meta.url));

describe("examples/mec.yaml", () => {
  it("validates: two detectors, a writer and a transfer target; the relay forwards its ports", () => {
    const cfg = loadInstrument(MEC, componentTypes());
    expect(cfg.components.map((c) => `${c.name}:${c.type}`)).toEqual([
      "det1:area-detector",
      "det2:area-detector",
      "writer:hdf5-writer",
      "transfer:transfer",
    ]);
    expect(AreaDetectorParamsSchema.parse(cfg.components[0]!.params)).toMatchObject({
      minFreeDiskBytes: 5e9,
      frameBudgetMs: 75,
    });
    expect(TransferParamsSchema.parse(cfg.components[3]!.params).target).toMatchObject({
      kind: "ssh",
      host: "s3dfdtn",
    });
    expect((cfg.run.components as Record<string, { arm: unknown }>).det2!.arm).toMatchObject({
      experiment: "mecl1019923",
      num_background_frames: 10,
    });
    expect(instrumentForwards(MEC, "172.21.43.22", "0.0.0.0")).toEqual([
      { name: "control", listen: "0.0.0.0:5571", target: "172.21.43.22:5571" },
      { name: "publish", listen: "0.0.0.0:5572", target: "172.21.43.22:5572" },
      { name: "dashboard", listen: "0.0.0.0:8083", target: "172.21.43.22:8083" },
    ]);
  });
});

describe("hutch transfer status", () => {
  it("draws progress bars", () => {
    expect(progressBar(0, 100, 10)).toBe("[----------]   0%");
    expect(progressBar(45, 100, 10)).toBe("[#####-----]  45%");
    expect(progressBar(7, 0, 4)).toBe("[####] 100%");
  });
});

describe("hutch sim area-detector", () => {
  it("binds, reports its addresses, reads out a frame per trigger of its generator and stops cleanly on SIGINT", async () => {
    const p = spawn(
      process.execPath,
      [
        BIN,
        "sim",
        "area-detector",
        "--listen",
        "127.0.0.1:0",
        "--trigger-listen",
        "127.0.0.1:0",
        "--width",
        "64",
        "--height",
        "64",
        "--trigger-hz",
        "20",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let err = "";
    let out = "";
    p.stdout.on("data", (b: Buffer) => (out += b.toString()));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no banner: ${err}`)), 10_000);
      p.stderr.on("data", (b: Buffer) => {
        err += b.toString();
        if (/frames on 127\.0\.0\.1:\d+, triggers on 127\.0\.0\.1:\d+ \(generator at 20 Hz\)/.test(err)) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    p.kill("SIGINT");
    const code = await new Promise((r) => p.once("exit", r));
    expect(code).toBe(0);
    const stats = JSON.parse(out) as Record<string, number>;
    expect(stats.frames_sent).toBe(0); // no source connected: every frame read out is counted as unsent
    expect(stats.frames_unsent_no_client! + stats.triggers_missed!).toBe(
      stats.frames_triggered! + stats.triggers_missed!,
    );
  });
});
