// Event-page throughput over ZeroMQ PUSH->PULL (encode, send, receive, decode, validate) vs raw zeromq.js.
//
// Pipelines move the same pages over loopback TCP in this process, in alternating rounds:
//   raw      zeromq.js PUSH->PULL of the page's payload bytes (time + data arrays) as one frame: the reference;
//   frames   zeromq.js PUSH->PULL of the exact frames Hutch puts on the wire, encoded once (multipart cost only);
//   hutch    ZmqPushSender.send(page) -> ZmqPullReceiver: encode, send, receive, decode, validate, queue; the
//            page's columns carved from one buffer as Hutch's sources and builders do (ByteSlab): one body frame;
//            on the native sockets (native-zmq/, the system's libzmq) when they are built, as Hutch runs;
//   separate the same with time and data in separate allocations: one body frame per array;
//   zeromqjs the hutch pipeline on zeromq.js sockets (the fallback): what the native sockets gain.
// Each figure is the best of BENCH_ROUNDS rounds of BENCH_ROUND_S seconds: other processes on the machine only
// ever slow a round down. `cpu_us_per_page` (both threads: JS and ZeroMQ's I/O) is less sensitive to load;
// `ratio_cpu` = raw / hutch CPU per page; `ratio_paired_median` = median over rounds of hutch / raw measured
// back to back (less sensitive to load that comes and goes than the ratio of two bests).
// Headline: `ratio` = hutch / raw MB/s (best of rounds each) at 64 KiB pages.
import { Pull, Push } from "zeromq";
import {
  RunFactory,
  StreamFactory,
  nd,
  nowSec,
  topicOf,
  type Document,
  type EventPage,
} from "../src/core/index.js";
import { encodeDocument } from "../src/codecs/index.js";
import { ZmqPullReceiver, ZmqPushSender, nativeZmqVersion, type ZmqBackend } from "../src/transport/index.js";

const ROUND_S = Number(process.env.BENCH_ROUND_S ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP_S = 0.5;
const SAMPLES = 512; // uint16 samples per event: 1 KiB per event
const HWM = 1000;

interface Rate {
  pages: number;
  seconds: number;
  /** Process CPU time (user + system) of the round, in microseconds. */
  cpuUs: number;
}

const cpuNow = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

const run = RunFactory.open({ run: 1, instrument: "bench", plan: "bench", config: {} });
const stop: Document = { kind: "log", time: nowSec(), level: "info", component: "bench", message: "stop" };

/** Sends `next()` until `seconds` have passed (checking the clock every 16 sends), then `end`. */
async function pump(
  send: (m: Buffer | Buffer[]) => Promise<void>,
  next: () => Buffer | Buffer[],
  seconds: number,
) {
  const until = performance.now() + seconds * 1000;
  let i = 0;
  while ((++i & 15) !== 0 || performance.now() < until) await send(next());
}

/** zeromq.js alone: every message is `make()`; a 1-byte message ends the round. */
async function rawRound(make: () => Buffer | Buffer[], seconds: number): Promise<Rate> {
  const pull = new Pull({ linger: 0, receiveHighWaterMark: HWM });
  await pull.bind("tcp://127.0.0.1:0");
  const push = new Push({ linger: 0, sendHighWaterMark: HWM });
  push.connect(pull.lastEndpoint!);
  let pages = 0;
  const c0 = cpuNow();
  const t0 = performance.now();
  const rx = (async () => {
    for (;;) {
      const frames = await pull.receive();
      if (frames.length === 1 && frames[0]!.byteLength === 1) return performance.now();
      pages++;
    }
  })();
  await pump((m) => push.send(m), make, seconds);
  await push.send(Buffer.alloc(1));
  const t1 = await rx;
  const cpuUs = cpuNow() - c0;
  push.close();
  pull.close();
  return { pages, seconds: (t1 - t0) / 1000, cpuUs };
}

/** The Hutch path: documents in, validated documents out. */
async function hutchRound(page: EventPage, seconds: number, backend: ZmqBackend = "auto"): Promise<Rate> {
  const rx = await ZmqPullReceiver.open({
    address: "tcp://127.0.0.1:0",
    receiveHighWaterMark: HWM,
    backend,
  });
  const tx = await ZmqPushSender.open({
    backend,
    address: rx.endpoint,
    instrument: "bench",
    sendHighWaterMark: HWM,
    lingerMs: 0,
  });
  let pages = 0;
  const c0 = cpuNow();
  const t0 = performance.now();
  const consumer = (async () => {
    for await (const { doc } of rx) {
      if (doc.kind !== "event-page") break;
      pages++;
    }
    return performance.now();
  })();
  const until = performance.now() + seconds * 1000;
  let i = 0;
  while ((++i & 15) !== 0 || performance.now() < until) await tx.send(page);
  await tx.send(stop);
  const t1 = await consumer;
  const cpuUs = cpuNow() - c0;
  if (rx.wire.invalid > 0) throw new Error(`bench: ${rx.wire.invalid} pages rejected`);
  tx.close();
  rx.close();
  return { pages, seconds: (t1 - t0) / 1000, cpuUs };
}

/** Measures one page size; prints its lines and returns hutch/raw. */
async function measure(label: string, events: number): Promise<number> {
  const s = new StreamFactory(run.info, "wf", { adc: { dtype: "uint16", shape: [SAMPLES] } });
  // one allocation, columns carved from it (time first), as sources and builders carve pages from a ByteSlab
  const slab = new ArrayBuffer(events * (8 + 2 * SAMPLES));
  const time = new Float64Array(slab, 0, events).fill(nowSec());
  const adc = new Uint16Array(slab, 8 * events, events * SAMPLES);
  for (let i = 0; i < adc.length; i++) adc[i] = i & 0xfff;
  const page = s.page(time, { adc: nd(adc, [events, SAMPLES]) });
  const apart = s.page(time.slice(), { adc: nd(adc.slice(), [events, SAMPLES]) });
  const payload = Buffer.from(slab.slice(0)); // the same bytes, its own allocation
  const frames = encodeDocument(topicOf("bench", page), page);
  const pipelines = {
    raw: (sec: number) => rawRound(() => payload, sec),
    frames: (sec: number) => rawRound(() => frames, sec),
    hutch: (sec: number) => hutchRound(page, sec),
    separate: (sec: number) => hutchRound(apart, sec),
    zeromqjs: (sec: number) => hutchRound(page, sec, "zeromq.js"),
  };
  type Name = keyof typeof pipelines;
  for (const round of Object.values(pipelines)) await round(WARMUP_S);
  const best = Object.fromEntries(
    Object.keys(pipelines).map((k) => [k, { pps: 0, cpuUs: Infinity }]),
  ) as Record<Name, { pps: number; cpuUs: number }>;
  const paired: number[] = []; // hutch / raw of each round: the two measured seconds apart
  for (let r = 0; r < ROUNDS; r++) {
    const rate: Partial<Record<Name, number>> = {};
    for (const [name, round] of Object.entries(pipelines)) {
      const x = await round(ROUND_S);
      const b = best[name as Name];
      rate[name as Name] = x.pages / x.seconds;
      b.pps = Math.max(b.pps, x.pages / x.seconds);
      b.cpuUs = Math.min(b.cpuUs, x.cpuUs / x.pages);
    }
    paired.push(rate.hutch! / rate.raw!);
  }
  paired.sort((a, b) => a - b);
  const pps = (k: Name) => best[k].pps;
  console.log(`page_bytes_${label}: ${payload.byteLength}`);
  console.log(`frames_per_page_${label}: ${frames.length}`);
  for (const k of ["raw", "frames", "hutch", "separate", "zeromqjs"] as const) {
    console.log(`${k}_MBps_${label}: ${((pps(k) * payload.byteLength) / 1e6).toFixed(1)}`);
    console.log(`${k}_pages_per_s_${label}: ${pps(k).toFixed(0)}`);
    console.log(`${k}_cpu_us_per_page_${label}: ${best[k].cpuUs.toFixed(1)}`);
  }
  console.log(`ratio_vs_same_frames_${label}: ${(pps("hutch") / pps("frames")).toFixed(3)}`);
  console.log(`ratio_separate_arrays_${label}: ${(pps("separate") / pps("raw")).toFixed(3)}`);
  console.log(`ratio_on_zeromqjs_${label}: ${(pps("zeromqjs") / pps("raw")).toFixed(3)}`);
  console.log(`ratio_cpu_${label}: ${(best.raw.cpuUs / best.hutch.cpuUs).toFixed(3)}`);
  console.log(`ratio_paired_median_${label}: ${paired[paired.length >> 1]!.toFixed(3)}`);
  console.log(`ratio_${label}: ${(pps("hutch") / pps("raw")).toFixed(3)}`);
  return pps("hutch") / pps("raw");
}

const only = process.argv[2]; // e.g. `npm run bench -- bus 64KiB`
console.log(`hutch_sockets: ${nativeZmqVersion ? `native (libzmq ${nativeZmqVersion})` : "zeromq.js"}`);
if (!nativeZmqVersion)
  console.error(
    "bench: the native ZeroMQ sockets are not built (apt-get install libzmq3-dev, then npm run build); " +
      "Hutch runs on zeromq.js here",
  );
let headline: number | undefined;
for (const [label, events] of [
  ["1KiB", 1],
  ["1MiB", 1024],
  ["64KiB", 64],
] as const) {
  if (only && only !== label) continue;
  const r = await measure(label, events);
  if (label === "64KiB") headline = r;
}
if (headline !== undefined) console.log(`ratio: ${headline.toFixed(3)}`);
