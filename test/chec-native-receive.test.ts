// Integration: the native UDP receive path (recvmmsg batches) on real loopback sockets, and the same results as dgram.
import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { TARGET_C_READOUT_BYTES, encodeReadout, mvToAdc } from "../src/codecs/index.js";
import { makeLogger, type EventPage } from "../src/core/index.js";
import {
  NativeUdpReceiver,
  UDP_SLOT_BYTES,
  type UdpBatch,
} from "../src/sources/target-c/native-udp-receiver.js";
import { targetCSourceComponent } from "../src/sources/target-c/target-c-source.js";
import { InprocBus } from "../src/transport/index.js";
import { hostComponent, testRun, waitFor } from "./helpers/chec-context.js";
import { freeUdpPort } from "./helpers/ports.js";

const log = makeLogger(() => {});
const NOW_NS = () => BigInt(Date.now()) * 1_000_000n;

/** `n` readouts from timestamp `ts` on, pixel i = (i + r) mV. */
function datagram(ts: bigint, n = 1): Buffer {
  const b = Buffer.alloc(n * TARGET_C_READOUT_BYTES);
  for (let r = 0; r < n; r++) {
    const words = Array.from({ length: 64 }, (_, i) => mvToAdc(i + r));
    encodeReadout(b, r * TARGET_C_READOUT_BYTES, ts + BigInt(r), ts + BigInt(r), words);
  }
  return b;
}

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function socketAt(address: string): Promise<Socket> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, address, () => r()));
  closers.push(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}

function send(s: Socket, port: number, b: Buffer): Promise<void> {
  return new Promise((r, j) => s.send(b, port, "127.0.0.1", (e) => (e ? j(e) : r())));
}

describe("native UDP receive", () => {
  it("is built where CI runs", () => {
    if (process.env.CI === "true") expect(NativeUdpReceiver.available()).toBe(true);
  });

  it.runIf(NativeUdpReceiver.available())(
    "hands over datagrams in batches with their bytes, lengths and source addresses",
    async () => {
      const got: { len: number; from: number; first: number; last: number }[] = [];
      const rx = await NativeUdpReceiver.open({
        host: "localhost", // a name: resolved to an IPv4 address first
        port: 0,
        recvBufferBytes: 1 << 20,
        onBatch: (b: UdpBatch, count: number) => {
          for (let i = 0; i < count; i++) {
            const len = b.length(i);
            const at = i * UDP_SLOT_BYTES;
            got.push({ len, from: b.address(i), first: b.bytes[at]!, last: b.bytes[at + len - 1] ?? -1 });
          }
        },
        onError: (err) => {
          throw err;
        },
        log,
      });
      closers.push(() => rx.close());
      expect(rx.port).toBeGreaterThan(0);
      const s = await socketAt("127.0.0.105");
      const sizes = [1, 0, 1440, 65507, 7];
      for (const [k, n] of sizes.entries()) await send(s, rx.port, Buffer.alloc(n, k + 1));
      await waitFor(() => got.length === sizes.length, "every datagram");
      expect(got.map((g) => g.len)).toEqual(sizes);
      expect(new Set(got.map((g) => g.from))).toEqual(new Set([0x7f000069]));
      expect(got[2]).toMatchObject({ first: 3, last: 3 });
      expect(got[3]).toMatchObject({ first: 4, last: 4 });
    },
  );

  it.runIf(NativeUdpReceiver.available())(
    "passes an exception thrown in onBatch to onError and keeps receiving; close() inside onBatch stops it",
    async () => {
      const errors: Error[] = [];
      let batches = 0;
      let closeInside = false;
      const rx: NativeUdpReceiver = await NativeUdpReceiver.open({
        host: "127.0.0.1",
        port: 0,
        recvBufferBytes: 1 << 20,
        onBatch: () => {
          batches++;
          if (closeInside) {
            void rx.close();
            void rx.close(); // twice: harmless
            return;
          }
          if (batches === 1) throw new Error("boom in onBatch");
        },
        onError: (err) => errors.push(err),
        log,
      });
      closers.push(() => rx.close());
      const s = await socketAt("127.0.0.1");
      await send(s, rx.port, Buffer.from("one"));
      await waitFor(() => errors.length === 1, "the error");
      expect(errors[0]!.message).toBe("boom in onBatch");
      await send(s, rx.port, Buffer.from("two"));
      await waitFor(() => batches === 2, "a batch after the error");
      closeInside = true;
      await send(s, rx.port, Buffer.from("three"));
      await waitFor(() => batches === 3, "the batch that closes");
      // closed: a new socket can take the port, and nothing more is delivered
      const again = await NativeUdpReceiver.open({
        host: "127.0.0.1",
        port: rx.port,
        recvBufferBytes: 1 << 20,
        onBatch: () => {},
        onError: () => {},
        log,
      });
      await again.close();
      expect(batches).toBe(3);
    },
  );

  it.runIf(NativeUdpReceiver.available())("frees its port as soon as close() returns", async () => {
    const opts = {
      host: "127.0.0.1",
      recvBufferBytes: 1 << 20,
      onBatch: () => {},
      onError: () => {},
      log,
    };
    const a = await NativeUdpReceiver.open({ ...opts, port: 0 });
    void a.close();
    const b = NativeUdpReceiver.open({ ...opts, port: a.port }); // no turn of the event loop in between
    const rx = await b;
    expect(rx.port).toBe(a.port);
    await rx.close();
  });

  it.runIf(NativeUdpReceiver.available())("refuses a port in use, naming the address", async () => {
    const first = await NativeUdpReceiver.open({
      host: "127.0.0.1",
      port: 0,
      recvBufferBytes: 1 << 20,
      onBatch: () => {},
      onError: () => {},
      log,
    });
    closers.push(() => first.close());
    const second = NativeUdpReceiver.open({
      host: "127.0.0.1",
      port: first.port,
      recvBufferBytes: 1 << 20,
      onBatch: () => {},
      onError: () => {},
      log,
    });
    await expect(second).rejects.toMatchObject({
      code: "HUTCH_ERR_IO",
      message: expect.stringMatching(
        new RegExp(`cannot bind UDP 127\\.0\\.0\\.1:${first.port}: bind: Address already in use`),
      ),
    });
  });

  it.runIf(NativeUdpReceiver.available())(
    "gives the source the same pages and counters as dgram for good and malformed datagrams",
    async () => {
      const ts = NOW_NS();
      const good = [datagram(ts, 3), datagram(ts + 1000n, 10)];
      const badTs = Buffer.concat([datagram(0n), datagram(ts + 5000n)]); // one impossible readout of two
      const run = async (receiver: "native" | "dgram") => {
        const bus = new InprocBus("chec");
        closers.push(() => bus.close());
        const port = await freeUdpPort();
        const src = await hostComponent(targetCSourceComponent, { host: "127.0.0.1", port, receiver }, bus);
        closers.push(() => src.close());
        const pages: EventPage[] = [];
        bus.tap("chec/readouts/event-page", (m) => m.doc.kind === "event-page" && pages.push(m.doc));
        await src.configure();
        await src.start(testRun("chec"));
        const tm = await socketAt("127.0.0.103");
        const stranger = await socketAt("127.0.0.99");
        await send(tm, port, good[0]!);
        await send(tm, port, Buffer.alloc(0)); // empty
        await send(tm, port, Buffer.alloc(145, 1)); // not a multiple of 144
        await send(stranger, port, datagram(ts)); // unknown source
        await send(tm, port, badTs);
        await send(tm, port, good[1]!);
        await waitFor(() => src.counters.get("datagrams") === 6, "six datagrams");
        await src.stop();
        const col = (name: string) =>
          Buffer.concat(
            pages.map((p) =>
              Buffer.from(
                p.data[name]!.data.buffer,
                p.data[name]!.data.byteOffset,
                p.data[name]!.data.byteLength,
              ),
            ),
          );
        const counters = src.counters.snapshot();
        for (const k of ["native_receive", "recv_buffer_bytes", "port"]) delete counters[k];
        return {
          counters,
          warnings: src.logs.filter((l) => l.level === "warn").map((l) => l.message.replace(/\d+ ms/, "")),
          columns: ["module", "timestamp", "aux_timestamp", "data"].map(col),
        };
      };
      const native = await run("native");
      const dgram = await run("dgram");
      expect(native.counters).toEqual(dgram.counters);
      expect(native.counters).toMatchObject({
        readouts: 14,
        rejected_datagrams_bad_length: 2,
        rejected_datagrams_unknown_source: 1,
        rejected_readouts_bad_timestamp: 1,
        module_02_readouts: 14,
      });
      expect(native.warnings).toEqual(dgram.warnings);
      expect(native.warnings.join("\n")).toMatch(
        /rejected datagrams bad length from 127\.0\.0\.103: empty datagram/,
      );
      expect(native.warnings.join("\n")).toMatch(/rejected datagrams unknown source from 127\.0\.0\.99/);
      expect(native.columns).toEqual(dgram.columns);
      expect(native.columns[0]!.length).toBe(14 * 2);
    },
  );
});
