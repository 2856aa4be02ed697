// The native ZeroMQ sockets (native-zmq/, the system's libzmq) speak plain ZMTP with pyzmq and zeromq.js, keep
// messages whole while signals interrupt libzmq, and refuse bad calls with a clear error.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { Pull, Push } from "zeromq";
import { RunFactory, StreamFactory, nd } from "../src/core/index.js";
import { NativeZmqSocket, ZmqPushSender, nativeZmqVersion } from "../src/transport/index.js";

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** Frames of every size class: empty, small (copied), just over the copy limit, large (lent, not copied). */
function sampleFrames(): Buffer[] {
  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  return [Buffer.from("topic"), Buffer.alloc(0), Buffer.alloc(8193, 0xab), big];
}

const PY_PULL = `
import json, sys, zmq, msgpack, numpy as np
ctx = zmq.Context(); s = ctx.socket(zmq.PULL)
print(s.bind_to_random_port("tcp://127.0.0.1"), flush=True)
for _ in range(int(sys.argv[1])):
    f = s.recv_multipart()
    h = msgpack.unpackb(f[1])
    a = h["arrays"][h["doc"]["data"]["adc"]["$nd"]]
    adc = np.frombuffer(f[2 + a["frame"]], dtype=a["dtype"], offset=a["offset"], count=int(np.prod(a["shape"])))
    print(json.dumps({"topic": f[0].decode(), "v": h["v"], "kind": h["kind"], "seq": h["doc"]["seq"],
                      "dtype": a["dtype"], "shape": a["shape"], "sum": int(adc.astype(np.int64).sum())}), flush=True)
`;

const PY_PUSH = `
import sys, zmq
ctx = zmq.Context(); s = ctx.socket(zmq.PUSH); s.connect(sys.argv[1])
big = bytes((i * 7) & 0xff for i in range(1 << 20))
for i in range(int(sys.argv[2])):
    s.send_multipart([b"py", i.to_bytes(4, "little"), b"", big])
sys.stdin.readline()  # closing earlier could lose what the kernel still holds: the test says when
s.close(linger=5000)
`;

/** Runs /usr/bin/python3 with `code`; yields its stdout lines; killed at the end of the test. */
function python(code: string, args: string[]) {
  const proc = spawn("/usr/bin/python3", ["-c", code, ...args]);
  closers.push(() => proc.exitCode === null && proc.kill("SIGKILL"));
  let stderr = "";
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on("exit", r));
  return {
    lines: createInterface({ input: proc.stdout }),
    exited,
    stderr: () => stderr,
    done: () => proc.stdin.end("done\n"),
  };
}

describe.runIf(nativeZmqVersion !== undefined)("native ZeroMQ sockets", () => {
  it("send what pyzmq decodes: topic, msgpack header, numpy arrays with exact values", async () => {
    const py = python(PY_PULL, ["3"]);
    const lines = py.lines[Symbol.asyncIterator]();
    const port = Number((await lines.next()).value);
    const tx = await ZmqPushSender.open({
      address: `tcp://127.0.0.1:${port}`,
      instrument: "demo",
      backend: "native",
    });
    closers.push(() => tx.close());
    const run = RunFactory.open({ run: 1, instrument: "demo", plan: "count", config: {} });
    const s = new StreamFactory(run.info, "wf", { adc: { dtype: "uint16", shape: [4096] } });
    const adc = new Uint16Array(16 * 4096).map((_, i) => i % 1000);
    const expected = adc.reduce((a, b) => a + b, 0);
    for (let i = 0; i < 3; i++) await tx.send(s.page(new Float64Array(16), { adc: nd(adc, [16, 4096]) }));
    const got = [];
    for (let i = 0; i < 3; i++) got.push(JSON.parse((await lines.next()).value as string));
    expect(got.map((g) => g.seq)).toEqual([1, 17, 33]);
    for (const g of got)
      expect(g).toMatchObject({
        topic: "demo/wf/event-page",
        v: 2,
        kind: "event-page",
        dtype: "uint16",
        shape: [16, 4096],
        sum: expected,
      });
    expect(await py.exited).toBe(0);
  });

  it("receive what pyzmq sends, frame for frame, in order", async () => {
    const pull = new NativeZmqSocket("pull", {});
    closers.push(() => pull.close());
    await pull.bind("tcp://127.0.0.1:0");
    const py = python(PY_PUSH, [pull.lastEndpoint!, "50"]);
    const big = sampleFrames()[3]!;
    for (let i = 0; i < 50; i++) {
      const [topic, n, empty, body] = await pull.receive();
      expect(topic!.toString()).toBe("py");
      expect(n!.readUInt32LE(0)).toBe(i);
      expect(empty!.byteLength).toBe(0);
      expect(body!.equals(big)).toBe(true);
    }
    py.done();
    expect(await py.exited).toBe(0);
  });

  it("exchange exact frames with zeromq.js both ways", async () => {
    const frames = sampleFrames();
    // native PUSH -> zeromq.js PULL
    const jsPull = new Pull({ linger: 0 });
    closers.push(() => jsPull.close());
    await jsPull.bind("tcp://127.0.0.1:0");
    const push = new NativeZmqSocket("push", {});
    closers.push(() => push.close());
    push.connect(jsPull.lastEndpoint!);
    await push.send(frames);
    const got = await jsPull.receive();
    expect(got.map((f) => f.toString("hex"))).toEqual(frames.map((f) => f.toString("hex")));
    // zeromq.js PUSH -> native PULL
    const pull = new NativeZmqSocket("pull", {});
    closers.push(() => pull.close());
    await pull.bind("tcp://127.0.0.1:0");
    const jsPush = new Push({ linger: 0 });
    closers.push(() => jsPush.close());
    jsPush.connect(pull.lastEndpoint!);
    await jsPush.send(frames);
    const back = await pull.receive();
    expect(back.map((f) => f.toString("hex"))).toEqual(frames.map((f) => f.toString("hex")));
  });

  it("keeps every message whole and in order while the CPU profiler's signals interrupt libzmq", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hutch-eintr-"));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const fixture = fileURLToPath(new URL("fixtures/zmq-under-profiler.mjs", import.meta.url));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--cpu-prof", "--cpu-prof-interval", "20", "--cpu-prof-dir", dir, fixture, "20000"],
      { timeout: 60_000 },
    );
    expect(JSON.parse(stdout)).toEqual({ received: 20000, wrong: 0, invalid: 0, errors: 0 });
  });

  it("refuses bad calls with errors that name the problem, and a closed socket with HUTCH_ERR_CLOSED", async () => {
    const push = new NativeZmqSocket("push", {});
    await expect(push.bind("tcp://nowhere:x")).rejects.toThrow(/bind tcp:\/\/nowhere:x: /);
    await expect(push.send([])).rejects.toThrow(/non-empty array of Buffers/);
    await expect(push.send(["text" as unknown as Buffer])).rejects.toThrow(/Buffer or a typed array/);
    expect(() => push.connect("nonsense")).toThrow(/connect nonsense: /);
    push.close();
    await expect(push.send([Buffer.from("x")])).rejects.toMatchObject({ code: "HUTCH_ERR_CLOSED" });
    const pull = new NativeZmqSocket("pull", {});
    const waiting = pull.receive();
    pull.close();
    await expect(waiting).rejects.toMatchObject({ code: "HUTCH_ERR_CLOSED" });
  });
});
