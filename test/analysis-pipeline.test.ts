// Analysis stages inside a real instrument: demo source -> histogram -> fit -> quality rule that pauses the run.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fitNode, histogramNode, qualityNode } from "../src/analysis/index.js";
import {
  ComponentHost,
  inprocLinkPair,
  type ComponentDef,
  type ComponentToCore,
  type CoreToComponent,
} from "../src/component/index.js";
import { RunControl, resultOf } from "../src/control/index.js";
import type { Alarm, Document, Quality } from "../src/core/index.js";
import { demoSource } from "../src/sim/index.js";
import { InprocBus } from "../src/transport/index.js";
import { until } from "./helpers/instrument.js";

/** One core and its components in this process, wired as the composition root does. */
interface Rig {
  readonly bus: InprocBus;
  readonly core: RunControl;
  close(): Promise<void>;
}

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function startRig(
  components: { name: string; def: ComponentDef<never>; params: unknown }[],
): Promise<Rig> {
  const bus = new InprocBus("t");
  const core = new RunControl({
    instrument: "t",
    bus,
    dataDir: mkdtempSync(join(tmpdir(), "hutch-analysis-")),
    config: {},
    expected: components.map((c) => c.name),
  });
  const hosts: ComponentHost[] = [];
  for (const c of components) {
    const [coreEnd, compEnd] = inprocLinkPair<CoreToComponent, ComponentToCore>();
    core.attach(coreEnd);
    hosts.push(
      await ComponentHost.create({
        name: c.name,
        def: c.def as ComponentDef<unknown>,
        params: c.params,
        instrument: "t",
        bus,
        dataDir: "/nonexistent",
        link: compEnd,
      }),
    );
  }
  return {
    bus,
    core,
    async close() {
      for (const h of hosts) await h.close();
      await core.close();
      bus.close();
    },
  };
}

describe("analysis stages in an instrument", () => {
  it("histogram -> two-Gaussian fit -> quality rule: a broken rule raises an alarm and pauses the run", async () => {
    rig = await startRig([
      {
        name: "digitiser",
        def: demoSource as ComponentDef<never>,
        params: { rateHz: 4000, pageSize: 50, samples: 16 },
      },
      {
        name: "peaks",
        def: histogramNode as ComponentDef<never>,
        params: { input: "waveforms", field: "peak", bins: 64, publishIntervalMs: 50 },
      },
      {
        name: "peakfit",
        def: fitNode as ComponentDef<never>,
        params: { input: "peaks", model: "two-gauss", meanRatio: 2, publishIntervalMs: 100 },
      },
      {
        name: "gain-ok",
        def: qualityNode as ComponentDef<never>,
        params: {
          input: "peakfit",
          field: "mu1",
          low: 100,
          high: 500,
          onViolation: "pause",
          publishIntervalMs: 100,
        },
      },
    ]);
    const { core, bus } = rig;
    const docs: Document[] = [];
    bus.tap("t/", ({ doc }) => docs.push(doc));
    await until(async () => (await core.status()).components.length === 4, "registration");
    await resultOf(core.command("prepare"));
    await resultOf(core.command("start"));
    await until(async () => (await core.status()).state === "PAUSED", "the quality rule to pause the run");
    // The core logs why it paused (status.reason does not carry a pause reason yet).
    const why = docs.find((d) => d.kind === "log" && d.component === "core" && /paused/.test(d.message));
    expect(why && why.kind === "log" && why.message).toMatch(
      /paused: gain-ok: quality rule 'gain-ok': mu1 = .* is outside the healthy range \[100, 500\]/,
    );
    const fits = docs.filter((d) => d.kind === "event" && d.stream === "peakfit");
    const last = fits.at(-1)!;
    if (last.kind !== "event") throw new Error("kind");
    expect(last.data.status).toBe("ok");
    // The demo's main line is at 800 counts (15 % wide), its 2x line at 1600.
    expect(Math.abs((last.data.mu1 as number) - 800)).toBeLessThan(40);
    const alarm = docs.find((d): d is Alarm => d.kind === "alarm" && d.id === "gain-ok:mu1");
    expect(alarm).toMatchObject({ source: "gain-ok", severity: "error", active: true });
    expect(
      docs.some((d): d is Quality => d.kind === "quality" && d.source === "gain-ok" && d.ok === false),
    ).toBe(true);
    await resultOf(core.command("stop"));
    const status = await core.status();
    expect(status.state).toBe("STOP");
    expect(status.components.find((c) => c.name === "peaks")!.counters.received).toBeGreaterThan(0);
  });
});
