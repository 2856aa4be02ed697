// Integration: built CHEC events reach a listener over ZeroMQ (pipeline -> ZmqPublisher -> listenChec), exact values.
import { afterEach, describe, expect, it } from "vitest";
import { TargetCSim } from "../src/sim/target-c/index.js";
import { listenChec, type ChecListener } from "../src/sources/target-c/index.js";
import { ZmqPublisher } from "../src/transport/index.js";
import { recordSent, startChecPipeline, waitFor, type ChecPipeline } from "./helpers/chec-context.js";
import { freeTcpAddress } from "./helpers/ports.js";

describe("listenChec", () => {
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  it("hands out every built event with its values, by get() and for-await, and ends on abort", async () => {
    const address = await freeTcpAddress();
    const pub = await ZmqPublisher.open({ address, instrument: "chec" });
    closers.push(() => pub.close());
    const ac = new AbortController();
    const events: ChecListener = await listenChec(address, { signal: ac.signal });
    closers.push(() => events.close());

    const pipe: ChecPipeline = await startChecPipeline();
    closers.push(() => pipe.close());
    // PUB/SUB joins late: publish a probe page until the listener hears it
    const pages: Parameters<typeof pub.publish>[0][] = [];
    pipe.bus.tap("chec/events/event-page", (m) => pages.push(m.doc));
    const sim = await TargetCSim.open({ to: `127.0.0.1:${pipe.port}`, seed: 4 });
    closers.push(() => sim.close());
    const sent = recordSent(sim);
    await sim.sendRounds(1);
    await waitFor(() => pages.length > 0 && pipe.builder.counters.get("events_complete") === 10, "10 events");
    const probe = pages[0]!;
    let heard = await events.get({ timeoutMs: 0 });
    for (let i = 0; !heard && i < 200; i++) {
      await pub.publish(probe);
      heard = await events.get({ timeoutMs: 20 });
    }
    expect(heard?.eventNumber).toBe(1n);
    for (let e = await events.get({ timeoutMs: 100 }); e; e = await events.get({ timeoutMs: 100 })); // drain probes

    for (const p of pages) await pub.publish(p);
    const got = [];
    for await (const e of events) {
      got.push(e);
      if (got.length === 10) break;
    }
    expect(got.map((e) => e.eventNumber)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i + 1)));
    const e = got[3]!;
    expect(e.runNumber).toBe(42n);
    expect(e.complete).toBe(true);
    expect(e.modules).toBe(32);
    expect(e.data.length).toBe(2048);
    const raw = sent.get(`5:${e.moduleTimestampNs[5]}`)!;
    expect(raw).toBeDefined();
    expect(e.data[5 * 64 + 40]).toBe(Math.fround((raw.readUInt16BE(80 + 2 * 8) ^ 0x8000) * 0.0763));
    expect(e.auxTimestampNs[5]).toBe(raw.readBigUInt64BE(72));

    ac.abort();
    expect(await events.get({ timeoutMs: 1000 })).toBeUndefined();
  });
});
