// Run control end to end in one process: the demo source through the core, documents, counts, catalog.
import { afterEach, describe, expect, it } from "vitest";
import { loadInstrument } from "../src/app/config.js";
import { componentTypes } from "../src/app/component-types.js";
import { startInstrument, type Instance } from "../src/app/instance.js";
import { connect, resultOf } from "../src/control/index.js";
import { ErrorCode, type Document, type RunStop } from "../src/core/index.js";
import { tempInstrument, until } from "./helpers/instrument.js";

const demo = {
  components: [
    { name: "digitiser", type: "demo-source", params: { rateHz: 2000, pageSize: 50, samples: 64 } },
  ],
};

let inst: Instance | undefined;
afterEach(async () => {
  await inst?.close();
  inst = undefined;
});

describe("run control", () => {
  it("prepare -> start -> pause -> resume -> stop moves the state and the run-stop counts every event", async () => {
    const t = await tempInstrument(demo);
    inst = await startInstrument(loadInstrument(t.file, componentTypes()), { quiet: true });
    const docs: Document[] = [];
    inst.bus.tap("t/", ({ doc }) => docs.push(doc));
    const op = connect(t.control);
    try {
      await until(async () => (await op.status()).components.length === 1, "registration");
      expect((await op.status()).state).toBe("STOP");
      await resultOf(op.command("prepare"));
      expect((await op.status()).state).toBe("READY");
      const started = (await resultOf(op.command("start"))) as { run: number };
      expect((await op.status()).state).toBe("RUN");
      await until(() => docs.filter((d) => d.kind === "event-page").length >= 3, "pages");
      await resultOf(op.command("pause"));
      expect((await op.status()).state).toBe("PAUSED");
      await resultOf(op.command("resume"));
      const stopped = (await resultOf(op.command("stop"))) as {
        exitStatus: string;
        counts: Record<string, number>;
      };
      expect(stopped.exitStatus).toBe("success");
      expect((await op.status()).state).toBe("STOP");

      const stop = docs.find((d): d is RunStop => d.kind === "run-stop")!;
      const pages = docs.filter((d) => d.kind === "event-page");
      const events = pages.reduce((n, p) => n + (p.kind === "event-page" ? p.n : 0), 0);
      expect(stop.run).toBe(started.run);
      expect(stop.counts.waveforms).toBe(events);
      expect(stop.exitStatus).toBe("success");
      // seq numbers are consecutive from 1 across pages
      let next = 1;
      for (const p of pages) {
        if (p.kind !== "event-page") continue;
        expect(p.seq).toBe(next);
        next += p.n;
      }
      const runs = await op.runs();
      expect(runs.at(-1)).toMatchObject({ run: started.run, exitStatus: "success", counts: stop.counts });
    } finally {
      await op.close();
    }
  });

  it("refuses transitions the table does not allow, naming the state and what is allowed", async () => {
    const t = await tempInstrument(demo);
    inst = await startInstrument(loadInstrument(t.file, componentTypes()), { quiet: true });
    await until(async () => (await inst!.core.status()).components.length === 1, "registration");
    await expect(resultOf(inst.core.command("stop"))).rejects.toMatchObject({
      code: ErrorCode.Transition,
      message: expect.stringMatching(/cannot stop in state STOP; allowed: prepare, reset/),
    });
    await expect(
      resultOf(inst.core.command("prepare", { components: { digitiser: { rateHz: -1 } } })),
    ).rejects.toMatchObject({
      code: ErrorCode.Config,
      message: expect.stringMatching(/digitiser: params.rateHz/),
    });
    expect((await inst.core.status()).state).toBe("STOP");
  });

  it("persists run numbers across restarts of the core", async () => {
    const t = await tempInstrument(demo);
    const cfg = loadInstrument(t.file, componentTypes());
    inst = await startInstrument(cfg, { quiet: true });
    await until(async () => (await inst!.core.status()).components.length === 1, "registration");
    const a = (await resultOf(inst.core.command("start"))) as { run: number };
    await resultOf(inst.core.command("stop"));
    await inst.close();
    inst = await startInstrument(cfg, { quiet: true });
    await until(async () => (await inst!.core.status()).components.length === 1, "registration");
    const b = (await resultOf(inst.core.command("start"))) as { run: number };
    await resultOf(inst.core.command("stop"));
    expect(b.run).toBe(a.run + 1);
    expect((await inst.core.runs()).map((r) => r.run)).toEqual([a.run, b.run]);
  });

  it("a watchdog aborts a run whose stream goes quiet and the run-stop says why", async () => {
    const t = await tempInstrument({
      ...demo,
      watchdogs: [{ stream: "nothing", noDataMs: 300, action: "abort" }],
    });
    inst = await startInstrument(loadInstrument(t.file, componentTypes()), { quiet: true });
    const stops: RunStop[] = [];
    inst.bus.tap("t/run/run-stop", ({ doc }) => stops.push(doc as RunStop));
    await until(async () => (await inst!.core.status()).components.length === 1, "registration");
    await resultOf(inst.core.command("start"));
    const stop = await until(() => stops[0], "run-stop");
    expect(stop.exitStatus).toBe("abort");
    expect(stop.reason).toMatch(/watchdog: no data from stream 'nothing' for 0.3 s/);
  });
});
