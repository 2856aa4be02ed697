// ZmqPublisher -> ZmqSubscriber over loopback: prefix filtering, exact arrays, counted drops, clean close.
import { afterEach, describe, expect, it } from "vitest";
import { RunFactory, StreamFactory, nd, nowSec, type Document } from "../src/core/index.js";
import {
  ZmqPublisher,
  ZmqSubscriber,
  nativeZmqVersion,
  type BusMessage,
  type Subscription,
  type ZmqBackend,
} from "../src/transport/index.js";
import { freeTcpAddress } from "./helpers/ports.js";

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const logDoc = (message: string): Document => ({
  kind: "log",
  time: nowSec(),
  level: "info",
  component: "probe",
  message,
});

/** PUB/SUB slow joiner: publishes probes until the subscriber has one (or the deadline passes). */
async function joined(pub: ZmqPublisher, sub: Subscription, deadlineMs = 5000): Promise<BusMessage> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    await pub.publish(logDoc("probe"));
    const m = await sub.get({ timeoutMs: 20 });
    if (m) return m;
  }
  throw new Error(`subscriber ${sub.name} saw nothing within ${deadlineMs} ms`);
}

/** Resolves once `cond()` holds, checking every few ms; throws past the deadline. */
async function until(cond: () => boolean, deadlineMs = 5000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Reads until a message matches, skipping left-over probes. */
async function next(sub: Subscription, match: (m: BusMessage) => boolean): Promise<BusMessage> {
  for (;;) {
    const m = await sub.get({ timeoutMs: 5000 });
    if (!m) throw new Error(`${sub.name}: nothing within 5000 ms`);
    if (match(m)) return m;
  }
}

// Both ZeroMQ libraries: the native addon (system libzmq) and zeromq.js.
const BACKENDS: ZmqBackend[] = nativeZmqVersion !== undefined ? ["native", "zeromq.js"] : ["zeromq.js"];

describe.each(BACKENDS)("ZeroMQ PUB/SUB on %s", (backend) => {
  it("delivers documents under the subscribed prefix with exact arrays and the origin", async () => {
    const pub = await ZmqPublisher.open({
      backend,
      address: await freeTcpAddress(),
      instrument: "demo",
      origin: "n1",
    });
    closers.push(() => pub.close());
    const sub = await ZmqSubscriber.open({ backend, address: pub.endpoint, prefix: "demo/" });
    closers.push(() => sub.close());
    const other = await ZmqSubscriber.open({ backend, address: pub.endpoint, prefix: "demo/wf/" });
    closers.push(() => other.close());
    await joined(pub, sub);

    const run = RunFactory.open({ run: 9, instrument: "demo", plan: "count", config: {} });
    const s = new StreamFactory(run.info, "wf", { adc: { dtype: "int16", shape: [3] } });
    const page = s.page(new Float64Array([1, 2]), { adc: nd(new Int16Array([-1, 2, -3, 4, -5, 6]), [2, 3]) });
    // The wf subscriber joins by receiving pages (its prefix excludes the probes).
    let got: BusMessage | undefined;
    const end = Date.now() + 5000;
    while (!got && Date.now() < end) {
      await pub.publish(page);
      got = await other.get({ timeoutMs: 20 });
    }
    expect(got?.topic).toBe("demo/wf/event-page");
    expect(got?.origin).toBe("n1");
    if (got?.doc.kind !== "event-page") throw new Error("expected a page");
    expect(got.doc.data.adc!.shape).toEqual([2, 3]);
    expect([...(got.doc.data.adc!.data as Int16Array)]).toEqual([-1, 2, -3, 4, -5, 6]);
    const m = await next(sub, (x) => x.doc.kind === "event-page");
    expect(m.topic).toBe("demo/wf/event-page");
    expect(other.wire.received).toBe(other.wire.decoded);
    expect(pub.stats.sent).toBeGreaterThan(1);
    expect(pub.stats.errors).toBe(0);
  });

  it("drops the oldest when the reader lags, and counts every drop", async () => {
    const pub = await ZmqPublisher.open({ backend, address: await freeTcpAddress(), instrument: "demo" });
    closers.push(() => pub.close());
    const sub = await ZmqSubscriber.open({ backend, address: pub.endpoint, prefix: "demo/", capacity: 4 });
    closers.push(() => sub.close());
    await joined(pub, sub);
    const before = sub.wire.decoded;
    for (let i = 0; i < 50; i++) await pub.publish(logDoc(`m${i}`));
    await until(() => sub.wire.decoded >= before + 50); // all read by the socket, none consumed yet
    await next(sub, (x) => x.doc.kind === "log" && x.doc.message === "m49");
    // Everything the socket took in was either delivered or dropped by policy, and counted.
    expect(sub.stats.dropped).toBeGreaterThan(0);
    expect(sub.stats.pushed).toBe(sub.wire.decoded);
    expect(sub.stats.delivered + sub.stats.dropped + sub.stats.depth).toBe(sub.stats.pushed);
  });

  it("ends iteration when closed and rejects publishing after close", async () => {
    const pub = await ZmqPublisher.open({ backend, address: await freeTcpAddress(), instrument: "demo" });
    const sub = await ZmqSubscriber.open({ backend, address: pub.endpoint });
    await joined(pub, sub);
    const seen: string[] = [];
    const loop = (async () => {
      for await (const m of sub) {
        seen.push(m.doc.kind);
        break; // breaking out closes the subscription
      }
    })();
    await pub.publish(logDoc("x"));
    await loop;
    expect(await sub.closed()).toBeUndefined();
    expect(seen).toEqual(["log"]);
    pub.close();
    await expect(pub.publish(logDoc("late"))).rejects.toMatchObject({ code: "HUTCH_ERR_CLOSED" });
    expect(pub.stats.errors).toBe(1);
  });

  it("closes on abort: iteration ends, publishing is refused", async () => {
    const ac = new AbortController();
    const pub = await ZmqPublisher.open({
      backend,
      address: await freeTcpAddress(),
      instrument: "demo",
      signal: ac.signal,
    });
    const sub = await ZmqSubscriber.open({ backend, address: pub.endpoint, signal: ac.signal });
    await joined(pub, sub);
    const ended = (async () => {
      for await (const _ of sub);
    })();
    ac.abort();
    await ended;
    await expect(pub.publish(logDoc("late"))).rejects.toMatchObject({ code: "HUTCH_ERR_CLOSED" });
  });

  it("names the address when binding fails", async () => {
    const pub = await ZmqPublisher.open({ backend, address: await freeTcpAddress(), instrument: "demo" });
    closers.push(() => pub.close());
    await expect(
      ZmqPublisher.open({ backend, address: pub.endpoint, instrument: "demo" }),
    ).rejects.toMatchObject({
      code: "HUTCH_ERR_IO",
      message: expect.stringContaining(pub.endpoint),
    });
  });
});
