// examples/python/chec_listen.py (pyzmq + msgpack + numpy) reads camera events from a live CHEC instrument.
import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { componentTypes } from "../src/app/component-types.js";
import { loadInstrument } from "../src/app/config.js";
import { startInstrument, type Instance } from "../src/app/instance.js";
import { resultOf } from "../src/control/index.js";
import { runTargetCSim } from "../src/sim/index.js";
import { checChainComponents } from "./helpers/chec-context.js";
import { tempInstrument } from "./helpers/instrument.js";
import { freeUdpPort } from "./helpers/ports.js";

const SCRIPT = new URL("../examples/python/chec_listen.py", import.meta.url).pathname;
let inst: Instance | undefined;
afterEach(async () => {
  await inst?.close();
  inst = undefined;
});

describe("chec_listen.py", () => {
  it("prints events with the module count, ending after --count", async () => {
    const port = await freeUdpPort();
    const t = await tempInstrument({
      instrument: "chec",
      components: [...checChainComponents(port)],
    });
    inst = await startInstrument(loadInstrument(t.file, componentTypes()), { quiet: true });
    await resultOf(inst.core.command("start"));
    const py = spawn("/usr/bin/python3", [SCRIPT, t.publish, "--count", "3", "--timeout", "20"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    py.stdout.on("data", (b: Buffer) => (out += b.toString()));
    py.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((r) => py.once("exit", (code) => r(code)));
    const ac = new AbortController();
    const sim = runTargetCSim(
      {
        to: `127.0.0.1:${port}`,
        modules: 32,
        rateHz: 20,
        readoutsPerDatagram: 1,
        faults: { dropModules: [7] },
      },
      { signal: ac.signal },
    );
    const code = await exited;
    ac.abort();
    await sim;
    expect(code, err).toBe(0);
    const lines = out.trim().split("\n");
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(/^event \d+ run 1 t=\d+ modules=31 mean=-?\d+\.\d+ mV$/);
  });
});
