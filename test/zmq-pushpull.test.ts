// ZmqPushSender -> ZmqPullReceiver over loopback: a stalled consumer stalls the sender, nothing is dropped.
import { afterEach, describe, expect, it } from "vitest";
import { RunFactory, StreamFactory, nd } from "../src/core/index.js";
import { ZmqPullReceiver, ZmqPushSender, nativeZmqVersion, type ZmqBackend } from "../src/transport/index.js";
import { freeTcpAddress } from "./helpers/ports.js";

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const run = RunFactory.open({ run: 1, instrument: "demo", plan: "count", config: {} });
const PER_PAGE = 32; // events of uint16[1024]: 64 KiB pages
const adc = new Uint16Array(PER_PAGE * 1024).map((_, i) => i & 0xffff);
const times = new Float64Array(PER_PAGE).fill(1);

/** Resolves to true when `p` settles within `ms` (a deadline, not a synchronisation sleep). */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  const done = await Promise.race([p.then(() => true as const), t]);
  clearTimeout(timer);
  return done;
}

// Both ZeroMQ libraries: the native addon (system libzmq) and zeromq.js. CI builds the addon (libzmq3-dev).
const BACKENDS: ZmqBackend[] = nativeZmqVersion !== undefined ? ["native", "zeromq.js"] : ["zeromq.js"];

describe.each(BACKENDS)("ZeroMQ PUSH/PULL (lossless) on %s", (backend) => {
  it("makes the sender wait while the consumer is stalled, then delivers every page in order", async () => {
    const rx = await ZmqPullReceiver.open({
      backend,
      address: await freeTcpAddress(),
      capacity: 2,
      receiveHighWaterMark: 2,
    });
    closers.push(() => rx.close());
    const tx = await ZmqPushSender.open({
      backend,
      address: rx.endpoint,
      instrument: "demo",
      sendHighWaterMark: 2,
    });
    closers.push(() => tx.close());
    const s = new StreamFactory(run.info, "wf", { adc: { dtype: "uint16", shape: [1024] } });

    // Nobody reads: the queue, both high-water marks and the kernel buffers fill, then a send waits.
    let sent = 0;
    let blocked: Promise<void> | undefined;
    while (sent < 2000) {
      const p = tx.send(s.page(times, { adc: nd(adc, [PER_PAGE, 1024]) }));
      sent++;
      if (!(await settlesWithin(p, 300))) {
        blocked = p;
        break;
      }
    }
    expect(blocked).toBeDefined();
    expect(rx.stats.depth).toBe(2);

    // The consumer starts: every page arrives once, in order, and the waiting send completes.
    let expectSeq = 1;
    for (let i = 0; i < sent; i++) {
      const m = await rx.get({ timeoutMs: 5000 });
      if (m?.doc.kind !== "event-page") throw new Error(`page ${i} missing`);
      expect(m.doc.seq).toBe(expectSeq);
      expectSeq += m.doc.n;
      if (i === 0) expect((m.doc.data.adc!.data as Uint16Array)[1023]).toBe(1023);
    }
    await blocked;
    expect(rx.stats.dropped).toBe(0);
    expect(rx.stats.blocked).toBeGreaterThan(0);
    expect(rx.stats.refused).toBe(0);
    expect(rx.wire.invalid).toBe(0);
    expect(tx.stats).toMatchObject({ sent, errors: 0 });
  });

  it("serialises concurrent sends in call order", async () => {
    const rx = await ZmqPullReceiver.open({
      backend,
      address: await freeTcpAddress(),
      capacity: 8,
    });
    closers.push(() => rx.close());
    const tx = await ZmqPushSender.open({
      backend,
      address: rx.endpoint,
      instrument: "demo",
      sendHighWaterMark: 1,
    });
    closers.push(() => tx.close());
    const s = new StreamFactory(run.info, "wf", { adc: { dtype: "uint16", shape: [1024] } });
    const sends = Array.from({ length: 200 }, () =>
      tx.send(s.page(times, { adc: nd(adc, [PER_PAGE, 1024]) })),
    );
    const seqs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const m = await rx.get({ timeoutMs: 5000 });
      if (m?.doc.kind !== "event-page") throw new Error(`page ${i} missing`);
      seqs.push(m.doc.seq);
    }
    await Promise.all(sends);
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => 1 + i * PER_PAGE));
  });

  it("rejects a waiting send with HUTCH_ERR_CLOSED when the sender is closed", async () => {
    const address = await freeTcpAddress();
    // No receiver at all: the pipe to the absent peer holds one message (HWM 1), then sends wait.
    const tx = await ZmqPushSender.open({
      backend,
      address,
      instrument: "demo",
      lingerMs: 0,
      sendHighWaterMark: 1,
    });
    const s = new StreamFactory(run.info, "wf", { adc: { dtype: "uint16", shape: [1024] } });
    await tx.send(s.descriptor);
    const p = tx.send(s.descriptor);
    const q = tx.send(s.descriptor);
    expect(await settlesWithin(p, 100)).toBe(false);
    tx.close();
    await expect(p).rejects.toMatchObject({ code: "HUTCH_ERR_CLOSED" });
    await expect(q).rejects.toMatchObject({ code: "HUTCH_ERR_CLOSED" });
    expect(tx.stats.errors).toBe(2);
  });
});

it("the native ZeroMQ sockets are built where CI runs (libzmq3-dev, scripts/build.mjs)", () => {
  if (process.env.CI === "true") expect(nativeZmqVersion).toMatch(/^4\.\d+\.\d+$/);
});
