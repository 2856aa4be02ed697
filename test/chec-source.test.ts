// Integration: the target-c source on a real UDP socket: buffer warning, module maps, impossible timestamps, floods.
import { createSocket, type Socket } from "node:dgram";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { TARGET_C_READOUT_BYTES, encodeReadout, mvToAdc } from "../src/codecs/index.js";
import type { EventPage } from "../src/core/index.js";
import { targetCSourceComponent } from "../src/sources/target-c/target-c-source.js";
import { InprocBus } from "../src/transport/index.js";
import {
  CHEC_RECEIVERS,
  hostComponent,
  testRun,
  waitFor,
  type TestComponent,
} from "./helpers/chec-context.js";
import { freeUdpPort } from "./helpers/ports.js";

const NOW_NS = () => BigInt(Date.now()) * 1_000_000n;

/** One datagram of `n` readouts at timestamp `ts`, pixel i = i mV. */
function datagram(ts: bigint, n = 1): Buffer {
  const b = Buffer.alloc(n * TARGET_C_READOUT_BYTES);
  const words = Array.from({ length: 64 }, (_, i) => mvToAdc(i));
  for (let r = 0; r < n; r++)
    encodeReadout(b, r * TARGET_C_READOUT_BYTES, ts + BigInt(r), ts + BigInt(r), words);
  return b;
}

describe.each(CHEC_RECEIVERS)("target-c source (%s receive)", (receiver) => {
  const open: { close(): unknown }[] = [];
  let bus: InprocBus;
  afterEach(async () => {
    for (const c of open.splice(0).reverse()) await c.close();
    bus?.close();
  });

  async function setup(params: Record<string, unknown> = {}): Promise<{ src: TestComponent; port: number }> {
    bus = new InprocBus("chec");
    const port = await freeUdpPort();
    const src = await hostComponent(
      targetCSourceComponent,
      { host: "127.0.0.1", port, receiver, ...params },
      bus,
    );
    open.push(src);
    await src.configure();
    return { src, port };
  }

  async function socketAt(address: string): Promise<Socket> {
    const s = createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, address, () => r()));
    open.push({ close: () => new Promise<void>((r) => s.close(() => r())) });
    return s;
  }

  function send(s: Socket, port: number, b: Buffer): Promise<void> {
    return new Promise((r, j) => s.send(b, port, "127.0.0.1", (e) => (e ? j(e) : r())));
  }

  it("warns naming net.core.rmem_max and the size obtained when the kernel gives a smaller buffer", async (t) => {
    const max = Number(readFileSync("/proc/sys/net/core/rmem_max", "utf8"));
    if (max >= 64 << 20) t.skip();
    const { src } = await setup({ recvBufferBytes: 64 << 20 });
    const w = src.logs.find((l) => l.level === "warn" && /net\.core\.rmem_max/.test(l.message));
    expect(w).toBeDefined();
    const obtained = src.counters.get("recv_buffer_bytes");
    expect(obtained).toBeLessThan(64 << 20);
    expect(w!.message).toContain(String(obtained));
    expect(w!.fields).toMatchObject({ asked: 64 << 20, obtained });
  });

  it("maps modules through an explicit table and rejects other sources", async () => {
    const { src, port } = await setup({ moduleMap: { kind: "table", table: { "127.0.0.7": 3 } } });
    const pages: EventPage[] = [];
    bus.tap("chec/readouts/event-page", (m) => m.doc.kind === "event-page" && pages.push(m.doc));
    await src.start(testRun("chec"));
    const known = await socketAt("127.0.0.7");
    const other = await socketAt("127.0.0.101");
    await send(known, port, datagram(NOW_NS(), 3));
    await send(other, port, datagram(NOW_NS()));
    await waitFor(() => src.counters.get("datagrams") === 2, "two datagrams");
    await src.stop();
    expect(src.counters.get("module_03_readouts")).toBe(3);
    expect(src.counters.get("rejected_datagrams_unknown_source")).toBe(1);
    const modules = pages.flatMap((p) => [...(p.data.module!.data as Uint16Array)]);
    expect(modules).toEqual([3, 3, 3]);
    expect((pages[0]!.data.data!.data as Float32Array)[10]).toBe(
      Math.fround((mvToAdc(10) ^ 0x8000) * 0.0763),
    );
  });

  it("rejects impossible timestamps (zero, far from the host clock) unless the clock check is off", async () => {
    const { src, port } = await setup();
    await src.start(testRun("chec"));
    const s = await socketAt("127.0.0.101");
    await send(s, port, datagram(0n));
    await send(s, port, datagram(1_000_000n)); // 1970
    await send(s, port, datagram(NOW_NS() + 7_200_000_000_000n)); // two hours ahead
    await send(s, port, datagram(NOW_NS()));
    await waitFor(() => src.counters.get("datagrams") === 4, "four datagrams");
    expect(src.counters.get("rejected_readouts_bad_timestamp")).toBe(3);
    expect(src.counters.get("readouts")).toBe(1);
    expect(src.logs.some((l) => /bad timestamp .*maxClockSkewMs/.test(l.message))).toBe(true);
    await src.stop();
  });

  it("accepts any non-zero timestamp with maxClockSkewMs null", async () => {
    const { src, port } = await setup({ maxClockSkewMs: null });
    await src.start(testRun("chec"));
    const s = await socketAt("127.0.0.102");
    await send(s, port, datagram(1_000_000n));
    await send(s, port, datagram(0n));
    await waitFor(() => src.counters.get("datagrams") === 2, "two datagrams");
    expect(src.counters.get("module_01_readouts")).toBe(1);
    expect(src.counters.get("rejected_readouts_bad_timestamp")).toBe(1);
    await src.stop();
  });

  it("counts datagrams outside a run and survives a flood of garbage with bounded logging", async () => {
    const { src, port } = await setup();
    const s = await socketAt("127.0.0.103");
    await send(s, port, datagram(NOW_NS()));
    await waitFor(() => src.counters.get("datagrams_outside_run") === 1, "a datagram before the run");
    await src.start(testRun("chec"));
    const flood = 2000;
    for (let i = 0; i < flood; i++) {
      const junk = Buffer.alloc(1 + (i % 700) * 2, i & 0xff); // odd lengths: never a multiple of 144
      s.send(junk, port, "127.0.0.1");
    }
    await send(s, port, datagram(NOW_NS()));
    await waitFor(
      () => src.counters.get("module_02_readouts") === 1,
      "the good datagram after the flood",
      10_000,
    );
    const bad = src.counters.get("rejected_datagrams_bad_length");
    // the kernel may drop some of the flood; everything that arrived is counted
    expect(bad).toBe(src.counters.get("datagrams") - 2);
    expect(bad).toBeGreaterThan(0);
    expect(src.logs.filter((l) => /bad length/.test(l.message)).length).toBeLessThanOrEqual(5);
    expect(src.failures).toEqual([]);
    await src.stop();
  });

  it("with minPageIntervalMs, publishes the first datagram at once and the ones after it together, none lost", async () => {
    const { src, port } = await setup({ minPageIntervalMs: 200 });
    const pages: EventPage[] = [];
    bus.tap("chec/readouts/event-page", (m) => m.doc.kind === "event-page" && pages.push(m.doc));
    await src.start(testRun("chec"));
    const tm = await socketAt("127.0.0.101");
    await send(tm, port, datagram(NOW_NS(), 2));
    await waitFor(() => pages.length === 1, "the first page, at once");
    for (let i = 0; i < 5; i++) await send(tm, port, datagram(NOW_NS(), 2));
    await waitFor(() => src.counters.get("datagrams") === 6, "six datagrams");
    await waitFor(() => pages.reduce((a, p) => a + p.n, 0) === 12, "every readout published");
    expect(pages.length).toBeLessThanOrEqual(3); // the five later ones wait for the interval (one timer)
    await src.stop();
  });
});
