// The relay's DAQ and detector sides over loopback: raw MEC messages, NDJSON, segmentation, refusals, crashes, tokens.
import type { Socket } from "node:net";
import { connect as tcpConnect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { makeLogger, type LogLevel } from "../src/core/index.js";
import { RelayAgent, RelayServer, encodeLinkMessage, type ArmOutcome } from "../src/relay/index.js";
import type { ArmMessage } from "../src/codecs/index.js";
import { runPython } from "./helpers/h5py.js";

const logs: { level: LogLevel; message: string }[] = [];
const log = makeLogger((level, message) => logs.push({ level, message }));
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
  logs.length = 0;
});

const ARM = {
  command: "arm",
  experiment: "mecl1019923",
  run_name: "r12",
  num_background_frames: 10,
  gain: 3,
};

async function relay(o: Record<string, unknown> = {}): Promise<RelayServer> {
  const r = await RelayServer.open(
    { daq: "127.0.0.1:0", detector: "127.0.0.1:0", agentLostAfterMs: 600, ...o },
    log,
  );
  open.push(r);
  return r;
}

async function agent(
  r: RelayServer,
  onArm: (a: ArmMessage) => Promise<ArmOutcome>,
  o: Partial<{ token: string; name: string }> = {},
): Promise<RelayAgent> {
  const a = RelayAgent.open({
    relay: r.detectorAddress,
    name: o.name ?? "varex-pc",
    onArm,
    log,
    reconnectMs: 50,
    pingMs: 100,
    ...(o.token ? { token: o.token } : {}),
  });
  open.push(a);
  await a.ready(5000);
  return a;
}

/** A DAQ client: collects everything the relay sends back. */
async function daq(
  r: RelayServer,
): Promise<{ s: Socket; got: () => string; reply: (n?: number) => Promise<string> }> {
  const [host, port] = r.daqAddress.split(":");
  const s = tcpConnect(Number(port), host);
  s.setNoDelay(true);
  await new Promise((res) => s.once("connect", res));
  let buf = "";
  const waiters: (() => void)[] = [];
  s.on("data", (b) => {
    buf += b.toString();
    for (const w of waiters.splice(0)) w();
  });
  open.push({ close: async () => void s.destroy() });
  return {
    s,
    got: () => buf,
    /** Resolves once `n` bytes have arrived in all (default: anything), with everything so far. */
    reply: (n = 1) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no reply (have ${JSON.stringify(buf)})`)), 5000);
        const check = () => (buf.length >= n ? (clearTimeout(t), resolve(buf)) : waiters.push(check));
        check();
      }),
  };
}

describe("relay: DAQ side", () => {
  it("answers a raw JSON arm sent in one send by a Python client exactly like the MEC DAQ: b'OK'", async () => {
    const r = await relay();
    const seen: ArmMessage[] = [];
    await agent(r, async (a) => (seen.push(a), { ok: true, run: 4 }));
    const [host, port] = r.daqAddress.split(":");
    const out = await runPython(
      `import socket, json, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.send(json.dumps(${JSON.stringify(ARM)}).encode())
print(repr(s.recv(1024)))
s.close()`,
      [host!, port!],
    );
    expect(out.trim()).toBe("b'OK'");
    expect(seen).toEqual([
      expect.objectContaining({ experiment: "mecl1019923", run_name: "r12", gain: 3, num_skip_frames: 1 }),
    ]);
    expect(r.stats).toMatchObject({ messages_raw: 1, arms_ok: 1 });
  });

  it("parses messages split across segments and several in one segment; NDJSON clients get lines", async () => {
    const r = await relay();
    let n = 0;
    await agent(r, async () => ({ ok: true, run: ++n }));
    const c = await daq(r);
    const text = JSON.stringify(ARM);
    for (let i = 0; i < text.length; i += 7) {
      c.s.write(text.slice(i, i + 7));
      await new Promise((res) => setImmediate(res)); // separate segments
    }
    expect(await c.reply(2)).toBe("OK");
    const lines = `${JSON.stringify({ ...ARM, run_name: "a" })}\n${JSON.stringify({ ...ARM, run_name: "b", gain: 9 })}\n`;
    c.s.write(lines);
    expect(await c.reply(2 + 3 + 1 + 3)).toMatch(
      /^OKOK\nNOT OK: gain: must be a whole number from 1 to 7 \(got 9\)\n$/,
    );
    expect(n).toBe(2);
    expect(r.stats).toMatchObject({ messages_raw: 1, messages_ndjson: 2, arms_ok: 2, arms_invalid: 1 });
  });

  it("refuses bad messages with the reason, and says so when no detector side is connected", async () => {
    const r = await relay();
    const c = await daq(r);
    c.s.write(JSON.stringify({ ...ARM, includes_shot_frame: true, binning: 5 }));
    const got = await c.reply(8);
    expect(got).toMatch(/^NOT OK: binning: must be 1, 2 or 3 \(got 5\); unknown field 'includes_shot_frame'/);
    const d = await daq(r);
    d.s.write("hello?");
    expect(await d.reply()).toBe("NOT OK: not a JSON object: 6 byte(s) that do not start with '{'");
    const e = await daq(r);
    e.s.write(JSON.stringify(ARM));
    expect(await e.reply()).toBe("NOT OK: no detector side connected to the relay");
  });

  it("needs the shared token when configured, from the DAQ and from the agent", async () => {
    const r = await relay({ token: "s3cret-token" });
    const bad = RelayAgent.open({
      relay: r.detectorAddress,
      name: "intruder",
      token: "wrong-token",
      onArm: async () => ({ ok: true, run: 1 }),
      log,
      reconnectMs: 10_000,
    });
    open.push(bad);
    await expect(bad.ready(300)).rejects.toThrow(/not reached/);
    await agent(r, async () => ({ ok: true, run: 1 }), { token: "s3cret-token" });
    const c = await daq(r);
    c.s.write(JSON.stringify(ARM) + "\n");
    expect(await c.reply()).toBe("NOT OK: unauthorised: this relay needs the shared token (field 'token')\n");
    c.s.write(JSON.stringify({ ...ARM, token: "s3cret-token" }) + "\n");
    const first = "NOT OK: unauthorised: this relay needs the shared token (field 'token')\n";
    expect(await c.reply(first.length + 3)).toBe(`${first}OK\n`);
    expect(r.stats.unauthorised).toBe(2);
  });
});

describe("relay: detector side never blocks the relay", () => {
  it("a detector side that crashes mid-arm gets NOT OK at once; other DAQ clients go on; a new agent is taken", async () => {
    const r = await relay();
    let crashed!: () => void;
    const hanging = new Promise<void>((res) => (crashed = res));
    const a1 = await agent(r, async () => {
      crashed();
      return new Promise<ArmOutcome>(() => undefined); // never answers
    });
    const c1 = await daq(r);
    c1.s.write(JSON.stringify(ARM));
    await hanging;
    await a1.close(); // the detector host dies in the middle of the arm
    expect(await c1.reply()).toBe("NOT OK: detector side 'varex-pc' disconnected");
    await agent(r, async () => ({ ok: true, run: 2 }), { name: "varex-pc-2" });
    const c2 = await daq(r);
    c2.s.write(JSON.stringify(ARM));
    expect(await c2.reply()).toBe("OK");
  });

  it("a frozen detector side (connected, silent) is dropped after agentLostAfterMs, failing its arm", async () => {
    const r = await relay({ agentLostAfterMs: 300 });
    const [host, port] = r.detectorAddress.split(":");
    const frozen = tcpConnect(Number(port), host);
    open.push({ close: async () => void frozen.destroy() });
    await new Promise((res) => frozen.once("connect", res));
    frozen.write(encodeLinkMessage({ t: "hello", name: "frozen" }));
    await new Promise((res) => frozen.once("data", res)); // welcome
    const c = await daq(r);
    const t0 = Date.now();
    c.s.write(JSON.stringify(ARM));
    expect(await c.reply()).toBe("NOT OK: detector side 'frozen' lost: silent for 300 ms");
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r.stats.agent_lost).toBe(1);
  });

  it("DAQ clients that reset mid-message or never finish do not disturb the others", async () => {
    const r = await relay({ messageTimeoutMs: 200 });
    await agent(r, async () => ({ ok: true, run: 1 }));
    const rude = await daq(r);
    rude.s.write('{"command": "arm", "exper');
    rude.s.resetAndDestroy();
    const slow = await daq(r);
    slow.s.write('{"command": "arm"');
    const many = await Promise.all(Array.from({ length: 8 }, () => daq(r)));
    for (const m of many) m.s.write(JSON.stringify(ARM));
    for (const m of many) expect(await m.reply()).toBe("OK");
    expect(await slow.reply()).toBe("NOT OK: incomplete message: no end of the JSON object within 200 ms");
  });
});
