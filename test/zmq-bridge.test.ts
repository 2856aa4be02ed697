// A core process (broker + bus) and two satellites bridged over ZeroMQ: everyone sees the others once, no echoes.
import { afterEach, describe, expect, it } from "vitest";
import { RunFactory, StreamFactory, nd, nowSec, type Document } from "../src/core/index.js";
import {
  BusBroker,
  InprocBus,
  ZmqSubscriber,
  bridgeBus,
  type BusBridge,
  type BusMessage,
  type Subscription,
} from "../src/transport/index.js";
import { freeTcpAddress } from "./helpers/ports.js";

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const log = (component: string, message: string): Document => ({
  kind: "log",
  time: nowSec(),
  level: "info",
  component,
  message,
});

/** Collects everything a subscription delivers into an array, in the background. */
function collect(sub: Subscription): BusMessage[] {
  const seen: BusMessage[] = [];
  void (async () => {
    for await (const m of sub) seen.push(m);
  })();
  return seen;
}

async function until(cond: () => boolean, what: string, deadlineMs = 5000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const messages = (seen: BusMessage[], text: string) =>
  seen.filter((m) => m.doc.kind === "log" && m.doc.message === text);

describe("bridgeBus over a BusBroker", () => {
  it("core and satellites see each other's documents once, with origins, never their own echoes", async () => {
    const broker = await BusBroker.open({
      inAddress: await freeTcpAddress(),
      outAddress: await freeTcpAddress(),
    });
    closers.push(() => broker.close());
    const nodes: { id: string; bus: InprocBus; bridge: BusBridge; seen: BusMessage[] }[] = [];
    const add = async (id: string, bridgeOpts: Parameters<typeof bridgeBus>[1]) => {
      const bus = new InprocBus("demo");
      const seen = collect(bus.subscribe({ prefix: "demo/", capacity: 4096 }));
      const bridge = await bridgeBus(bus, bridgeOpts);
      closers.push(() => bus.close());
      closers.push(() => bridge.close());
      nodes.push({ id, bus, bridge, seen });
    };
    await add("core", { nodeId: "core", broker });
    for (const id of ["sat1", "sat2"]) {
      await add(id, {
        nodeId: id,
        publish: { address: broker.inAddress, mode: "connect" },
        subscribe: { address: broker.outAddress, prefix: "demo/" },
      });
    }
    const listener = await ZmqSubscriber.open({ address: broker.outAddress, prefix: "demo/" });
    closers.push(() => listener.close());
    const heard = collect(listener);

    // Slow joiners: every node says hello until every other node (and the listener) has heard it.
    await until(() => {
      for (const n of nodes) void n.bus.publish(log(n.id, "hello"));
      return nodes.every(
        (n) =>
          nodes.every((o) => o === n || messages(n.seen, "hello").some((m) => m.origin === o.id)) &&
          heard.some((m) => m.origin === n.id),
      );
    }, "all nodes joined");

    const [core, sat1, sat2] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    const echoesBefore = sat1.bridge.stats.echoes;
    await core.bus.publish(log("core", "A"));
    await sat1.bus.publish(log("sat1", "B"));
    const r = RunFactory.open({ run: 4, instrument: "demo", plan: "count", config: {} });
    const st = new StreamFactory(r.info, "wf", { v: { dtype: "uint64", shape: [] } });
    await sat1.bus.publish(st.page(new Float64Array([5]), { v: nd(new BigUint64Array([2n ** 60n + 1n])) }));
    await sat1.bus.publish(log("sat1", "fence"));

    const arrived = (n: (typeof nodes)[0]) =>
      ["A", "B", "fence"].every((t) => messages(n.seen, t).length > 0) &&
      n.seen.some((m) => m.doc.kind === "event-page");
    await until(() => nodes.every(arrived), "A, B, page and fence everywhere");
    // sat1's own B, page and fence come back from the broker and are dropped as echoes.
    await until(() => sat1.bridge.stats.echoes >= echoesBefore + 3, "sat1 echoes");

    for (const n of nodes) {
      expect(
        messages(n.seen, "A").map((m) => m.origin),
        n.id,
      ).toEqual([n.id === "core" ? undefined : "core"]);
      expect(
        messages(n.seen, "B").map((m) => m.origin),
        n.id,
      ).toEqual([n.id === "sat1" ? undefined : "sat1"]);
      const pages = n.seen.filter((m) => m.doc.kind === "event-page");
      expect(pages, n.id).toHaveLength(1);
      const p = pages[0]!.doc;
      if (p.kind !== "event-page") throw new Error("page");
      expect([...(p.data.v!.data as BigUint64Array)]).toEqual([2n ** 60n + 1n]);
    }
    await until(() => ["A", "B"].every((t) => messages(heard, t).length === 1), "listener heard A and B");
    expect(messages(heard, "A")[0]!.origin).toBe("core");
    expect(messages(heard, "B")[0]!.origin).toBe("sat1");
    expect(core.bridge.stats.delivered).toBeGreaterThan(0);
    expect(sat2.bridge.stats.echoes).toBeGreaterThan(0);
    expect(broker.stats.messages).toBeGreaterThan(0);
    expect(broker.wire.invalid).toBe(0);
    for (const n of nodes) expect(n.bridge.stats.errors, n.id).toBe(0);
  });

  it("a satellite with a plain bound publisher and a subscriber bridges two buses directly", async () => {
    const a = new InprocBus("demo");
    const b = new InprocBus("demo");
    const addrA = await freeTcpAddress();
    const addrB = await freeTcpAddress();
    const ba = await bridgeBus(a, {
      nodeId: "a",
      publish: { address: addrA },
      subscribe: { address: addrB },
    });
    closers.push(() => ba.close());
    const bb = await bridgeBus(b, {
      nodeId: "b",
      publish: { address: addrB },
      subscribe: { address: addrA },
    });
    closers.push(() => bb.close());
    const seenB = collect(b.subscribe({ prefix: "" }));
    const seenA = collect(a.subscribe({ prefix: "" }));
    await until(() => {
      void a.publish(log("a", "ping"));
      void b.publish(log("b", "ping"));
      return (
        messages(seenB, "ping").some((m) => m.origin === "a") &&
        messages(seenA, "ping").some((m) => m.origin === "b")
      );
    }, "a and b joined");
    await b.publish(log("b", "pong"));
    await until(() => messages(seenA, "pong").length === 1, "a heard b");
    // What a received from b is not sent back to b: b saw its pong only once, locally.
    await a.publish(log("a", "fence"));
    await until(() => messages(seenB, "fence").length === 1, "fence");
    expect(messages(seenB, "pong").map((m) => m.origin)).toEqual([undefined]);
    expect(messages(seenA, "pong")[0]!.origin).toBe("b");
  });

  it("refuses a bridge with nothing to connect", async () => {
    await expect(bridgeBus(new InprocBus("demo"), { nodeId: "x" })).rejects.toMatchObject({
      code: "HUTCH_ERR_CONFIG",
    });
  });
});
