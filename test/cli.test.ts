// The `hutch` command as a user runs it: help, config errors, and operator commands against a live instrument.
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Dealer } from "zeromq";
import { tempInstrument, until } from "./helpers/instrument.js";

const BIN = new URL("../bin/hutch.js", import.meta.url).pathname;
const hutch = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 30_000 });

describe("hutch CLI", () => {
  it("every command has --help", () => {
    for (const c of [
      [],
      ["up"],
      ["run"],
      ["run", "start"],
      ["run", "status"],
      ["components"],
      ["logs"],
      ["listen"],
      ["runs"],
      ["demo"],
      ["node"],
    ]) {
      const r = hutch(...c, "--help");
      expect(r.status, c.join(" ")).toBe(0);
      expect(r.stdout).toMatch(/Usage: hutch/);
    }
  });

  it("a malformed instrument file is rejected with a clear error and exit code 2", async () => {
    const t = await tempInstrument({
      components: [{ name: "a", type: "demo-source", params: { rateHz: "fast" } }],
    });
    const r = hutch("up", t.file);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /components\[0\]\.params\.rateHz: Invalid input: expected number, received string \(got "fast"\) \[HUTCH_ERR_CONFIG\]/,
    );
    const bad = join(t.dir, "bad.yaml");
    writeFileSync(bad, "instrument: t\ncomponents: [{ name: a, type: demo-source }\n");
    expect(hutch("check", bad).stderr).toMatch(/bad\.yaml: line \d+: not valid YAML/);
  });

  it("run start/stop, status --json, runs --json, listen and logs against a live instrument; garbage on the control socket is survived", async () => {
    const t = await tempInstrument({
      components: [
        { name: "digitiser", type: "demo-source", params: { rateHz: 400, pageSize: 20, samples: 16 } },
      ],
    });
    const up = spawn(process.execPath, [BIN, "up", t.file, "-q"], { stdio: "ignore" });
    try {
      await until(
        () =>
          JSON.parse(hutch("run", "status", "--json", "-c", t.file).stdout || "{}").components?.length === 1,
        "registration",
        15_000,
      );
      // garbage on the control socket: counted and skipped, the core keeps answering
      const d = new Dealer({ linger: 0 });
      d.connect(t.control);
      await d.send([Buffer.from([0xc1, 0xff, 0x00])]);
      await d.send([Buffer.from("not msgpack at all")]);
      d.close();

      const start = hutch("run", "start", "-c", t.file);
      expect(start.status, start.stderr).toBe(0);
      expect(start.stdout).toMatch(/run 1 started \(state RUN\)/);
      expect(JSON.parse(hutch("run", "status", "--json", "-c", t.file).stdout).state).toBe("RUN");
      const listen = hutch("listen", "t/waveforms/", "--count", "2", "-c", t.file);
      expect(listen.status).toBe(0);
      const lines = listen.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatchObject({ topic: "t/waveforms/event-page", kind: "event-page", n: 20 });
      expect(lines[0].data.adc).toMatchObject({ dtype: "uint16", shape: [20, 16] });
      const stop = hutch("run", "stop", "--reason", "end of test", "-c", t.file);
      expect(stop.stdout).toMatch(/run 1 ended: success \(end of test\); events: waveforms=\d+/);
      const runs = JSON.parse(hutch("runs", "--json", "-c", t.file).stdout);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ run: 1, exitStatus: "success", reason: "end of test" });
      expect(runs[0].counts.waveforms).toBeGreaterThan(0);
      expect(hutch("runs", "show", "1", "-c", t.file).stdout).toMatch(/run 1 .* t, plan run/);
      expect(hutch("run", "stop", "-c", t.file).stderr).toMatch(
        /cannot stop in state STOP; allowed: prepare, reset \[HUTCH_ERR_TRANSITION\]/,
      );
      expect(hutch("call", "digitiser", "nope", "x=1", "-c", t.file).stderr).toMatch(
        /'digitiser' has no action 'nope' \(actions: none\) \[HUTCH_ERR_UNKNOWN_ACTION\]/,
      );
      expect(hutch("logs", "-c", t.file).stdout).toMatch(/INFO  core: run 1 ended \(success\): end of test/);
    } finally {
      up.kill("SIGTERM");
      await new Promise((r) => up.once("exit", r));
    }
  });
});
