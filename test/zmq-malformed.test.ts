// Garbage multipart messages to a ZmqSubscriber and a ZmqPullReceiver: each rejected, counted by reason, skipped.
import { encode } from "@msgpack/msgpack";
import { Publisher, Push } from "zeromq";
import { afterEach, describe, expect, it } from "vitest";
import { RunFactory, StreamFactory, nd, nowSec, topicOf, type Logger } from "../src/core/index.js";
import { encodeDocument, type WireRejectReason } from "../src/codecs/index.js";
import { ZmqPullReceiver, ZmqSubscriber, type Subscription } from "../src/transport/index.js";
import { freeTcpAddress } from "./helpers/ports.js";

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const run = RunFactory.open({ run: 2, instrument: "demo", plan: "count", config: {} });
const s = new StreamFactory(run.info, "wf", { adc: { dtype: "uint16", shape: [4] } });
const page = s.page(new Float64Array([1, 2]), { adc: nd(new Uint16Array(8), [2, 4]) });
const pageFrames = encodeDocument(topicOf("demo", page), page);
const T = Buffer.from("demo/wf/event-page");
const header = (h: unknown) => Buffer.from(encode(h, { useBigInt64: true }));

/** Each garbage message and the reason it must be counted under. */
const GARBAGE: [string, Buffer[], WireRejectReason][] = [
  ["topic only", [Buffer.from("demo/x/log")], "frames"],
  ["bad msgpack", [T, Buffer.from([0xc1, 0xff, 0x00])], "header"],
  ["header not a map", [T, header([1, 2, 3])], "header"],
  ["wrong version", [T, header({ v: 3, kind: "log", doc: {}, arrays: [] })], "version"],
  ["missing array frame", pageFrames.slice(0, 3), "frames"],
  ["extra frame", [...pageFrames, Buffer.alloc(8)], "frames"],
  ["frame of the wrong size", [...pageFrames.slice(0, 3), Buffer.alloc(15)], "arrays"],
  [
    "unknown dtype",
    [
      T,
      header({ v: 1, kind: "x", doc: {}, arrays: [{ dtype: "complex128", shape: [1] }] }),
      Buffer.alloc(16),
    ],
    "arrays",
  ],
  ["dangling $nd", [T, header({ v: 1, kind: "log", doc: { x: { $nd: 5 } }, arrays: [] })], "arrays"],
  [
    "schema violation",
    [
      Buffer.from("demo/run/run-stop"),
      header({ v: 1, kind: "run-stop", doc: { kind: "run-stop", run: -1 }, arrays: [] }),
    ],
    "schema",
  ],
  [
    "topic does not match kind",
    [Buffer.from("demo/wf/log"), pageFrames[1]!, ...pageFrames.slice(2)],
    "topic",
  ],
];

const good = (message: string) =>
  encodeDocument("demo/probe/log", {
    kind: "log",
    time: nowSec(),
    level: "info",
    component: "probe",
    message,
  });

function recordingLogger(lines: string[]): Logger {
  const add = (m: string) => lines.push(m);
  return { debug: add, info: add, warn: add, error: add };
}

async function expectRejectedThenGood(
  reader: Subscription & { wire: { invalid: number; rejected: Record<WireRejectReason, number> } },
  send: (frames: Buffer[]) => Promise<void>,
  lines: string[],
): Promise<void> {
  const expected: Partial<Record<WireRejectReason, number>> = {};
  for (const [name, frames, reason] of GARBAGE) {
    await send(frames);
    await send(good(`after ${name}`));
    const m = await reader.get({ timeoutMs: 5000 });
    expect(m?.doc.kind === "log" && m.doc.message, name).toBe(`after ${name}`);
    expected[reason] = (expected[reason] ?? 0) + 1;
    expect(reader.wire.rejected[reason], name).toBe(expected[reason]);
  }
  expect(reader.wire.invalid).toBe(GARBAGE.length);
  expect(lines.length).toBeGreaterThan(0);
  expect(lines.length).toBeLessThanOrEqual(5); // rate-limited: 5 lines a second at most
  expect(lines[0]).toMatch(/rejected a message \(frames\)/);
}

describe("malformed wire messages", () => {
  it("a ZmqSubscriber counts each reject by reason and still delivers the next document", async () => {
    const pub = new Publisher({ linger: 0 });
    closers.push(() => pub.close());
    await pub.bind(await freeTcpAddress());
    const lines: string[] = [];
    const sub = await ZmqSubscriber.open({
      address: pub.lastEndpoint!,
      prefix: "demo/",
      logger: recordingLogger(lines),
    });
    closers.push(() => sub.close());
    // Slow joiner: probe until the subscription is live, then drain the probes.
    const end = Date.now() + 5000;
    while (!(await sub.get({ timeoutMs: 20 }))) {
      if (Date.now() > end) throw new Error("subscriber never joined");
      await pub.send(good("probe"));
    }
    while (await sub.get({ timeoutMs: 50 }));
    await expectRejectedThenGood(sub, (f) => pub.send(f), lines);
  });

  it("a ZmqPullReceiver counts each reject by reason and still delivers the next document", async () => {
    const lines: string[] = [];
    const rx = await ZmqPullReceiver.open({
      address: await freeTcpAddress(),
      logger: recordingLogger(lines),
    });
    closers.push(() => rx.close());
    const push = new Push({ linger: 0 });
    closers.push(() => push.close());
    push.connect(rx.endpoint);
    await expectRejectedThenGood(rx, (f) => push.send(f), lines);
    expect(rx.stats.delivered).toBe(GARBAGE.length);
  });
});
