// A component in its own process is killed mid-run: detected by heartbeats, the run-stop names it, calls end.
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { connect, resultOf } from "../src/control/index.js";
import { ErrorCode, type RunStop } from "../src/core/index.js";
import { ZmqSubscriber } from "../src/transport/index.js";
import { freeTcpAddress } from "./helpers/ports.js";
import { tempInstrument, until } from "./helpers/instrument.js";

const BIN = new URL("../bin/hutch.js", import.meta.url).pathname;
const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
});

describe("lost components", () => {
  it("kill -9 of a component process is detected within the heartbeat limit; the run-stop names it; calls end", async () => {
    const t = await tempInstrument({
      components: [
        {
          name: "digitiser",
          type: "demo-source",
          process: "own",
          params: { rateHz: 500, pageSize: 10, samples: 32 },
        },
      ],
    });
    const up = spawn(process.execPath, [BIN, "up", t.file, "-q"], { stdio: ["ignore", "ignore", "pipe"] });
    procs.push(up);
    let stderr = "";
    up.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
    const op = connect(t.control);
    const sub = await ZmqSubscriber.open({ address: t.publish, prefix: "t/run/" });
    try {
      const status = await until(
        async () => {
          const s = await op.status({ timeoutMs: 1000 }).catch(() => undefined);
          return s?.components.find((c) => c.name === "digitiser") ? s : undefined;
        },
        "the component to register",
        15_000,
      );
      const pid = Number(/pid (\d+)/.exec(status.components[0]!.placement)![1]);
      expect(pid).toBeGreaterThan(0);
      await resultOf(op.command("start"));
      await until(async () => ((await op.status()).run?.counts.waveforms ?? 0) > 0, "data");

      process.kill(pid, "SIGKILL");
      const killedAt = Date.now();
      // Before the core declares it lost, a call to the dead component ends with a timeout, not a hang.
      const early = await resultOf(op.call("digitiser", "anything", {}, { timeoutMs: 300 })).catch(
        (e: unknown) => e,
      );
      expect(early).toMatchObject({ code: expect.stringMatching(/HUTCH_ERR_(TIMEOUT|COMPONENT_LOST)/) });

      let stop: RunStop | undefined;
      for await (const { doc } of sub) {
        if (doc.kind === "run-stop") {
          stop = doc;
          break;
        }
      }
      const detectedMs = Date.now() - killedAt;
      expect(stop!.exitStatus).toBe("fail");
      expect(stop!.reason).toMatch(/component 'digitiser' lost: no heartbeat for (\d+) ms \(limit 1500 ms\)/);
      const silentMs = Number(/no heartbeat for (\d+) ms/.exec(stop!.reason)![1]);
      expect(silentMs).toBeGreaterThanOrEqual(1500);
      expect(silentMs).toBeLessThan(1500 + 300); // one tick of the checker past the limit
      expect(detectedMs).toBeLessThan(1500 + 300);

      const s = await op.status();
      expect(s.state).toBe("ERROR");
      expect(s.components[0]).toMatchObject({ name: "digitiser", lost: true });
      // Once lost, calls fail at once with a clear error.
      await expect(resultOf(op.call("digitiser", "anything"))).rejects.toMatchObject({
        code: ErrorCode.ComponentLost,
      });
      const runs = await op.runs();
      expect(runs.at(-1)).toMatchObject({ exitStatus: "fail", reason: stop!.reason });
    } finally {
      sub.close();
      await op.close();
      up.kill("SIGTERM");
      await new Promise((r) => up.once("exit", r));
    }
    expect(stderr).not.toMatch(/TypeError|unhandled/i);
  });

  it("an operator call to a core that is not there ends with a timeout error", async () => {
    const op = connect(await freeTcpAddress());
    const t0 = Date.now();
    await expect(op.status({ timeoutMs: 200 })).rejects.toMatchObject({ code: ErrorCode.Timeout });
    expect(Date.now() - t0).toBeLessThan(5000);
    const progress = [];
    for await (const p of op.command("start", {}, { timeoutMs: 200 })) progress.push(p);
    expect(progress.at(-1)).toMatchObject({ type: "error", code: ErrorCode.Timeout });
    await op.close();
  });
});
