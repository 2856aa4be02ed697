// The demo instrument (examples/demo.yaml) on free ports: a short run where every stream of every component has events.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { componentTypes } from "../src/app/component-types.js";
import { loadInstrument } from "../src/app/config.js";
import { startInstrument, type Instance } from "../src/app/instance.js";
import { connect, resultOf, type OperatorClient } from "../src/control/index.js";
import { streamOf, type Document } from "../src/core/index.js";
import { until } from "./helpers/instrument.js";
import { freePort, freeTcpAddress, freeUdpPort } from "./helpers/ports.js";

/** Streams the demo's components publish during a run. */
const STREAMS = [
  "waveforms",
  "counters",
  "chec-readouts",
  "chec-events",
  "camera",
  "rois",
  "peak-hist",
  "peak-fit",
  "packets",
  "messages",
  "larpix-adc",
  "recent_packets",
  "det_frames",
  "det_background",
  "det_subtracted",
];

interface Comp {
  name: string;
  type: string;
  params?: Record<string, unknown>;
}

/** examples/demo.yaml with every port replaced by a free one, faster triggers, in a temp dir with its pixel layout. */
async function demoOnFreePorts(): Promise<{ file: string; control: string }> {
  const doc = parse(readFileSync("examples/demo.yaml", "utf8")) as {
    core: Record<string, unknown>;
    server: Record<string, unknown>;
    components: Comp[];
  };
  const control = await freeTcpAddress();
  doc.core = {
    ...doc.core,
    control,
    publish: await freeTcpAddress(),
    collect: await freeTcpAddress(),
    dataDir: "data",
  };
  doc.server = { enabled: false };
  const by = (name: string) => doc.components.find((c) => c.name === name)!.params!;
  const chec = await freeUdpPort();
  by("chec-sim").to = `127.0.0.1:${chec}`;
  by("chec").port = chec;
  const [cmd, data] = [await freePort(), await freePort()];
  Object.assign(by("larpix-sim"), { commandPort: cmd, dataPort: data });
  const boards = by("larpix").boards as Record<string, unknown>[];
  Object.assign(boards[0]!, { commandPort: cmd, dataPort: data });
  const det = `127.0.0.1:${await freePort()}`;
  by("det").detector = det;
  // 10 triggers/s: the 1 skip and 4 background frames of the arm take half a second, then data frames.
  Object.assign(by("det-sim"), { listen: det, rateHz: 10 });
  const dir = mkdtempSync(join(tmpdir(), "hutch-demo-"));
  copyFileSync("examples/larpix-pixels.yaml", join(dir, "larpix-pixels.yaml"));
  const file = join(dir, "demo.yaml");
  writeFileSync(file, stringify(doc));
  return { file, control };
}

describe("the demo instrument", () => {
  let inst: Instance | undefined;
  let op: OperatorClient | undefined;
  afterAll(async () => {
    await op?.close();
    await inst?.close();
  });

  it("runs twice: every stream gets events and each run-stop counts them", async () => {
    const { file, control } = await demoOnFreePorts();
    inst = await startInstrument(loadInstrument(file, componentTypes()), { quiet: true });
    op = connect(control);
    const docs: Document[] = [];
    inst.bus.tap("demo/", (m) => {
      const k = m.doc.kind;
      if (k === "event" || k === "event-page" || k === "run-stop") docs.push(m.doc);
    });
    for (let round = 1; round <= 2; round++) {
      docs.length = 0;
      await resultOf(op.command("start"));
      const seen = () => new Set(docs.filter((d) => d.kind !== "run-stop").map(streamOf));
      await until(
        () => STREAMS.every((s) => seen().has(s)),
        `events on every stream (round ${round})`,
        15_000,
      );
      await resultOf(op.command("stop"));
      const stop = await until(() => docs.find((d) => d.kind === "run-stop"), "run-stop");
      if (stop.kind !== "run-stop") throw new Error("not a run-stop");
      expect(stop.exitStatus).toBe("success");
      for (const s of STREAMS) expect(stop.counts[s], s).toBeGreaterThan(0);
      const status = await op.status();
      expect(status.state).toBe("STOP");
      for (const c of status.components) expect(c.state, c.name).toBe("STOP");
    }
    const runs = await op.runs();
    expect(runs.slice(-2).map((r) => r.exitStatus)).toEqual(["success", "success"]);
  }, 60_000);
});
