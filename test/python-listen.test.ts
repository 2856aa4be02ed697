// The Python client (examples/python/listen.py, pyzmq + msgpack + numpy) decodes what a live ZmqPublisher sends.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { RunFactory, StreamFactory, nd, nowSec, type Document } from "../src/core/index.js";
import { ZmqPublisher } from "../src/transport/index.js";
import { freeTcpAddress } from "./helpers/ports.js";

const LISTEN = fileURLToPath(new URL("../examples/python/listen.py", import.meta.url));
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

interface Py {
  proc: ChildProcessWithoutNullStreams;
  lines: string[];
  stderr: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Waits for a line matching `pred` (scanning from `from`), within a deadline. */
  waitLine(pred: (l: string) => boolean, from?: number, timeoutMs?: number): Promise<number>;
}

function startPython(args: string[]): Py {
  const proc = spawn("/usr/bin/python3", [LISTEN, ...args]);
  const lines: string[] = [];
  let err = "";
  proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const waiters = new Set<() => void>();
  createInterface({ input: proc.stdout }).on("line", (l) => {
    lines.push(l);
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
  closers.push(() => {
    if (proc.exitCode === null) proc.kill("SIGKILL");
  });
  return {
    proc,
    lines,
    stderr: () => err,
    exited,
    waitLine(pred, from = 0, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const i = lines.findIndex((l, k) => k >= from && pred(l));
          if (i < 0) return;
          cleanup();
          resolve(i);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching line from listen.py within ${timeoutMs} ms; stderr: ${err}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

const log = (component: string, message: string): Document => ({
  kind: "log",
  time: nowSec(),
  level: "info",
  component,
  message,
});

/** PUB/SUB slow joiner: keep publishing `probe` until the client prints something, then stop. */
async function untilHeard(pub: ZmqPublisher, py: Py, probe: Document): Promise<void> {
  let heard = false;
  const first = py.waitLine(() => true).then(() => (heard = true));
  while (!heard) {
    await pub.publish(probe);
    await Promise.race([first, new Promise((r) => setTimeout(r, 20))]);
    if (py.proc.exitCode !== null) throw new Error(`listen.py exited early: ${py.stderr()}`);
  }
}

interface JsonArray {
  dtype: string;
  shape: number[];
  data: (number | string)[];
}

describe("examples/python/listen.py", () => {
  it("decodes run-start, descriptor, event-page, event and run-stop with exact values, dtypes and shapes", async () => {
    const pub = await ZmqPublisher.open({
      address: await freeTcpAddress(),
      instrument: "demo",
      origin: "core",
    });
    closers.push(() => pub.close());
    const py = startPython([pub.endpoint, "demo/", "--json"]);
    await untilHeard(pub, py, log("probe", "hello"));

    const run = RunFactory.open({
      run: 42,
      instrument: "demo",
      plan: "count",
      config: { rateHz: 10, tags: ["a"] },
    });
    const s = new StreamFactory(run.info, "wf", {
      wf: { dtype: "uint16", shape: [1024], units: "adc" },
      energy: { dtype: "float64", shape: [], units: "keV" },
      ts: { dtype: "uint64", shape: [], units: "ns" },
      flag: { dtype: "int8", shape: [] },
    });
    const wf = new Uint16Array(3 * 1024).map((_, i) => (i * 7) & 0xffff);
    const bigs = [2n ** 53n + 1n, 2n ** 64n - 1n, 0n];
    // the page's columns carved from one buffer (as sources do): one body frame, arrays at offsets
    const buf = new ArrayBuffer(3 * 8 * 3 + wf.byteLength + 8);
    const col = <T extends { set(a: ArrayLike<number | bigint>): void }>(
      a: T,
      v: ArrayLike<number | bigint>,
    ) => {
      a.set(v);
      return a;
    };
    const page = s.page(col(new Float64Array(buf, 0, 3), [1.5, 2.25, 3.125]), {
      flag: nd(col(new Int8Array(buf, 24 + wf.byteLength, 3), [-128, 0, 127])),
      wf: nd(col(new Uint16Array(buf, 24, 3 * 1024), wf), [3, 1024]),
      energy: nd(col(new Float64Array(buf, 32 + wf.byteLength, 3), [0.1, -2.5e300, Math.PI])),
      ts: nd(col(new BigUint64Array(buf, 56 + wf.byteLength, 3), bigs)),
    });
    const event = s.event(
      { wf: nd(new Uint16Array(1024).fill(65535)), energy: 1.25, ts: 2n ** 60n, flag: -1 },
      4.5,
    );
    for (const d of [s.descriptor, page, event]) run.count(d);
    const stop = run.stop("success", "done");
    const from = py.lines.length;
    for (const d of [run.start, s.descriptor, page, event, stop] as Document[]) await pub.publish(d);
    const end = await py.waitLine((l) => l.includes('"run-stop"'), from);

    const docs = py.lines
      .slice(from, end + 1)
      .map((l) => JSON.parse(l) as { topic: string; origin: string; doc: Record<string, unknown> })
      .filter((m) => m.doc["kind"] !== "log");
    expect(docs.map((m) => m.topic)).toEqual([
      "demo/run/run-start",
      "demo/wf/descriptor",
      "demo/wf/event-page",
      "demo/wf/event",
      "demo/run/run-stop",
    ]);
    expect(docs.every((m) => m.origin === "core")).toBe(true);
    const [start, desc, p, ev, rs] = docs.map((m) => m.doc) as Record<string, unknown>[];
    expect(start).toMatchObject({
      kind: "run-start",
      run: 42,
      uid: run.start.uid,
      config: { rateHz: 10, tags: ["a"] },
    });
    expect(desc).toMatchObject({
      stream: "wf",
      fields: { wf: { dtype: "uint16", shape: [1024], units: "adc" } },
    });

    expect(p).toMatchObject({ kind: "event-page", seq: 1, n: 3, descriptor: s.descriptor.uid });
    const pd = p!["data"] as Record<string, JsonArray>;
    expect(p!["time"]).toEqual({ dtype: "float64", shape: [3], data: [1.5, 2.25, 3.125] });
    expect(pd["wf"]!.dtype).toBe("uint16");
    expect(pd["wf"]!.shape).toEqual([3, 1024]);
    expect(pd["wf"]!.data).toEqual([...wf]);
    expect(pd["energy"]).toEqual({ dtype: "float64", shape: [3], data: [0.1, -2.5e300, Math.PI] });
    expect(pd["ts"]).toEqual({ dtype: "uint64", shape: [3], data: bigs.map(String) });
    expect(pd["flag"]).toEqual({ dtype: "int8", shape: [3], data: [-128, 0, 127] });

    const ed = ev!["data"] as Record<string, unknown>;
    expect(ev).toMatchObject({ kind: "event", seq: 4, time: 4.5 });
    expect(ed["wf"]).toMatchObject({ dtype: "uint16", shape: [1024] });
    expect((ed["wf"] as JsonArray).data.every((x) => x === 65535)).toBe(true);
    expect(ed).toMatchObject({ energy: 1.25, ts: String(2n ** 60n), flag: -1 });
    expect(rs).toMatchObject({ kind: "run-stop", exitStatus: "success", counts: { wf: 4 } });

    // Ctrl-C: a clean exit, no traceback.
    py.proc.kill("SIGINT");
    expect(await py.exited).toBe(130);
    expect(py.stderr()).not.toMatch(/Traceback/);
  });

  it("prints text lines and exits 0 after --count documents", async () => {
    const pub = await ZmqPublisher.open({ address: await freeTcpAddress(), instrument: "demo" });
    closers.push(() => pub.close());
    const py = startPython([pub.endpoint, "demo/x/", "--count", "2"]);
    let exited = false;
    void py.exited.then(() => (exited = true));
    let i = 0;
    while (!exited) {
      await pub.publish(log("x", `m${i++}`));
      await pub.publish(log("other", "not subscribed"));
      await Promise.race([py.exited, new Promise((r) => setTimeout(r, 20))]);
    }
    expect(await py.exited).toBe(0);
    expect(py.lines).toHaveLength(2);
    for (const l of py.lines) expect(l).toMatch(/^demo\/x\/log \[-\] \{'kind': 'log', .*'message': 'm\d+'/);
  });
});
