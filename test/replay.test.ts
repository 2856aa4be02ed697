// A stored run replayed through the live chain: same documents (counts, values) as a new run marked as a replay.
import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { componentTypes } from "../src/app/component-types.js";
import { loadInstrument } from "../src/app/config.js";
import { startInstrument, type Instance } from "../src/app/instance.js";
import { resultOf, type Progress } from "../src/control/index.js";
import type { Document, EventPage, RunStart, RunStop } from "../src/core/index.js";
import { tempInstrument, until } from "./helpers/instrument.js";

const BIN = new URL("../bin/hutch.js", import.meta.url).pathname;
let inst: Instance | undefined;
afterEach(async () => {
  await inst?.close();
  inst = undefined;
});

describe("replay", () => {
  it("replays a stored run through the chain: same counts and values; run-start says replay; the writer stores it again", async () => {
    const t = await tempInstrument({
      components: [
        { name: "digitiser", type: "demo-source", params: { rateHz: 1000, pageSize: 25, samples: 32 } },
        { name: "writer", type: "hdf5-writer", params: { directory: "runs", flushIntervalMs: 200 } },
        {
          name: "peaks",
          type: "histogram",
          params: { input: "waveforms", field: "peak", bins: 50, range: [0, 2500] },
        },
      ],
    });
    inst = await startInstrument(loadInstrument(t.file, componentTypes()), { quiet: true });
    const docs: Document[] = [];
    inst.bus.tap("t/", ({ doc }) => docs.push(doc));
    await until(async () => (await inst!.core.status()).components.length === 3, "registration");
    await resultOf(inst.core.command("start"));
    await until(
      () => docs.filter((d) => d.kind === "event-page" && d.stream === "waveforms").length >= 8,
      "pages",
    );
    const first = (await resultOf(inst.core.command("stop"))) as {
      run: number;
      files: { path: string }[];
      counts: Record<string, number>;
    };
    expect(first.files).toHaveLength(1);
    const original = docs.splice(0);

    const progress: Progress[] = [];
    for await (const p of inst.core.replay([first.files[0]!.path], { speed: 0 })) progress.push(p);
    const result = progress.at(-1)!;
    expect(result.type, JSON.stringify(result)).toBe("result");
    const replayed = docs.splice(0);
    const start = replayed.find((d): d is RunStart => d.kind === "run-start")!;
    expect(start.run).toBe(first.run + 1);
    expect(start.replay).toMatchObject({ file: first.files[0]!.path, run: first.run });
    const stop = replayed.find((d): d is RunStop => d.kind === "run-stop")!;
    expect(stop.counts.waveforms).toBe(first.counts.waveforms);
    expect(stop.counts.counters).toBe(first.counts.counters);
    // the same values, page for page joined: compare the peak column
    const col = (ds: Document[]) =>
      ds
        .filter((d): d is EventPage => d.kind === "event-page" && d.stream === "waveforms")
        .flatMap((p) => [...(p.data.peak!.data as Float32Array)]);
    expect(col(replayed)).toEqual(col(original));
    // the analysis stage ran on the replay too, and the writer stored the replayed run
    expect(replayed.some((d) => d.kind === "event" && d.stream === "peaks")).toBe(true);
    const runs = await inst.core.runs();
    expect(runs.at(-1)).toMatchObject({ run: first.run + 1, replay: { file: first.files[0]!.path } });
    expect(runs.at(-1)!.files).toHaveLength(1);
    expect(progress.some((p) => p.type === "progress" && /replayed \d+\/\d+ events/.test(p.message))).toBe(
      true,
    );

    // and from the command line, with a bad file: a clear error
    // (spawned asynchronously: the core lives in this test's event loop)
    const cli = spawn(process.execPath, [BIN, "replay", "/nonexistent.h5", "-c", t.file], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    cli.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((r) => cli.once("exit", (c) => r(c)));
    expect(code).toBe(1);
    expect(stderr).toMatch(/replay: .*nonexistent\.h5/);
  });
});
