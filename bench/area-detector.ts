// Benchmark: CPU time per area-detector frame (classify, background, subtract, publish, HDF5 write) vs the 66.7 ms readout.
// Run: npm run build && npm run bench -- area-detector [size=2880] [repeats=2]
// Headline `ratio:` = CPU ms per frame (all threads: handling + the writer's worker, until the file is closed) / 66.7 ms
// readout; goal <= 0.5. One writer serves every run, as the writer component does.
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AdFrameFlags, checkArmMessage, type AdFrameMeta } from "../src/codecs/index.js";
import type { ComponentContext } from "../src/component/index.js";
import { Counters, ErrorCode, HutchError, RunFactory, StreamFactory, makeLogger } from "../src/core/index.js";
import { FrameSynth } from "../src/sim/index.js";
import { Acquisition, BackgroundStore } from "../src/sources/index.js";
import { Hdf5Writer } from "../src/storage/index.js";
import { InprocBus } from "../src/transport/index.js";

const SIZE = Number(process.argv[2] ?? 2880);
const REPEATS = Number(process.argv[3] ?? 3);
const READOUT_MS = 66.7;
const PLAN = { skip: 1, background: 10, data: 1, post: 0 }; // the MEC defaults
const FRAMES = PLAN.skip + PLAN.background + PLAN.data + PLAN.post;
const arm = checkArmMessage({
  experiment: "bench",
  run_name: "b",
  num_skip_frames: PLAN.skip,
  num_background_frames: PLAN.background,
  num_data_frames: PLAN.data,
  num_post_background_frames: PLAN.post,
});
if (!arm.ok) throw new Error(arm.reasons.join("; "));

const dir = mkdtempSync(join(tmpdir(), "hutch-bench-ad-"));
const synth = new FrameSynth({
  width: SIZE,
  height: SIZE,
  gain: 1,
  darkLevel: 300,
  noiseAdu: 4,
  spotAdu: 3000,
  seed: 1,
});
/** Fresh frames, as the link parser hands them over (one array each); made before anything is timed. */
const makeFrames = () =>
  Array.from({ length: FRAMES }, (_, i) =>
    synth.frame(i >= PLAN.skip + PLAN.background && i < FRAMES - PLAN.post),
  );

function context(bus: InprocBus, run: RunFactory): ComponentContext {
  return {
    name: "det1",
    instrument: bus.instrument,
    bus,
    log: makeLogger(() => undefined),
    counters: new Counters(),
    signal: new AbortController().signal,
    dataDir: dir,
    configDir: process.cwd(),
    run: run.info,
    stream: (name, fields, o) => new StreamFactory(run.info, name, fields, { component: "det1", ...o }),
    fail: (reason) => {
      throw new HutchError(ErrorCode.ComponentFailed, reason);
    },
    alarm: () => undefined,
    request: () => undefined,
  };
}

/**
 * One run through the real Acquisition, optionally written by `writer` (long-lived, as the writer component is:
 * its worker and arenas are reused from run to run). CPU (all threads) and wall time are taken from the run-start
 * until the run file is closed and fsynced; the catalog's sha256 of the file comes after, measured on its own.
 */
async function once(
  writer: Hdf5Writer | undefined,
  runNumber: number,
): Promise<{ cpuMs: number; wallMs: number; bytes: number; checksumCpuMs: number; workerMs: number }> {
  const frames = makeFrames();
  const busy0 = writer?.stats.worker_busy_ms ?? 0;
  const bus = new InprocBus("bench");
  const run = RunFactory.open({ run: runNumber, instrument: "bench", plan: "bench", config: {} });
  const ctx = context(bus, run);
  let loop: Promise<void> | undefined;
  if (writer) {
    const w = writer;
    const sub = bus.subscribe({ prefix: "bench/", overflow: "block", capacity: 16 });
    loop = (async () => {
      for await (const { doc } of sub) await w.write(doc);
    })();
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await bus.publish(run.start);
  const acq = await Acquisition.open({
    arm: arm.ok ? arm.arm : (undefined as never),
    run: run.info,
    ctx,
    streamPrefix: "det1",
    width: SIZE,
    height: SIZE,
    background: "mean",
    store: new BackgroundStore(join(dir, "bkg")),
    frameBudgetMs: 75,
    storeSkipFrames: false,
    rejectMarkedFreeRun: true,
    tiffDir: undefined,
    stopWhenComplete: false,
    subtractPostShot: false,
    maxQueuedFrames: 64,
    pauseInput: () => undefined,
    resumeInput: () => undefined,
  });
  acq.begin();
  frames.forEach((px, i) => {
    const meta: AdFrameMeta = {
      frameNumber: i + 1,
      triggerNumber: i + 1,
      flags: AdFrameFlags.triggered,
      width: SIZE,
      height: SIZE,
      gain: 1,
      binning: 1,
      readoutUs: 66_700,
      time: Date.now() / 1000,
    };
    acq.onFrame(meta, px);
  });
  await acq.end();
  if (writer) {
    await bus.publish(run.stop("success", "bench"));
    bus.close();
    await loop;
    await writer.drain(); // the run-stop's batch closes (and fsyncs) the file
  }
  const c = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  let bytes = 0;
  let checksumCpuMs = 0;
  if (writer) {
    const c1 = process.cpuUsage();
    const files = await writer.runFinished(run.start.uid); // sizes and sha256 for the run catalog
    const c2 = process.cpuUsage(c1);
    checksumCpuMs = (c2.user + c2.system) / 1000;
    bytes = files.reduce((s, f) => s + f.bytes, 0);
    for (const f of files) rmSync(f.path);
  }
  const workerMs = (writer?.stats.worker_busy_ms ?? 0) - busy0;
  return { cpuMs: (c.user + c.system) / 1000, wallMs, bytes, checksumCpuMs, workerMs };
}

/** Reference measured in the same run: the same bytes written to a plain file (fsync at the end). */
function rawFs(bytes: number): { cpuMs: number; wallMs: number } {
  const buf = Buffer.alloc(SIZE * SIZE * 2, 7);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const fd = openSync(join(dir, "raw.bin"), "w");
  for (let done = 0; done < bytes; done += buf.length) writeSync(fd, buf);
  fsyncSync(fd);
  closeSync(fd);
  const c = process.cpuUsage(cpu0);
  rmSync(join(dir, "raw.bin"));
  return { cpuMs: (c.user + c.system) / 1000, wallMs: performance.now() - t0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// As in examples/mec.yaml: batches of 64 MiB, so 16.6 MB frames reuse the writer's arenas.
const writer = await Hdf5Writer.open({
  directory: dir,
  gzip: 0,
  flushIntervalMs: 1000,
  batchBytes: 64 << 20,
});
try {
  await once(undefined, 1); // warm-up (JIT)
  await once(writer, 2); // warm-up of the writer (worker heap, arenas), as after its first run
  const handle: number[] = [];
  const total: number[] = [];
  const wall: number[] = [];
  const checksum: number[] = [];
  const worker: number[] = [];
  let bytes = 0;
  for (let r = 0; r < REPEATS; r++) {
    handle.push((await once(undefined, 3 + 2 * r)).cpuMs / FRAMES);
    const w = await once(writer, 4 + 2 * r);
    total.push(w.cpuMs / FRAMES);
    if (process.env.AD_DEBUG)
      console.log(`run ${r}: write ${(w.cpuMs / FRAMES - handle.at(-1)!).toFixed(1)} ms/frame`);
    wall.push(w.wallMs / FRAMES);
    checksum.push(w.checksumCpuMs / FRAMES);
    worker.push(w.workerMs / FRAMES);
    bytes = w.bytes;
  }
  const fs = rawFs(bytes);
  const perFrame = median(total);
  console.log(`frame: ${SIZE}x${SIZE} uint16 (${((SIZE * SIZE * 2) / 1e6).toFixed(1)} MB)`);
  console.log(
    `plan: ${PLAN.skip} skip, ${PLAN.background} background (mean), ${PLAN.data} data, ${PLAN.post} post-shot`,
  );
  console.log(`run_file_mb: ${(bytes / 1e6).toFixed(0)}`);
  console.log(`handle_cpu_ms_per_frame: ${median(handle).toFixed(1)}`);
  console.log(`write_cpu_ms_per_frame: ${(perFrame - median(handle)).toFixed(1)}`);
  // Wall time the writer's worker spent in HDF5 calls and the final fsync (part of write_cpu when it is CPU).
  console.log(`write_worker_busy_ms_per_frame: ${median(worker).toFixed(1)}`);
  console.log(`total_cpu_ms_per_frame: ${perFrame.toFixed(1)}`);
  console.log(`wall_ms_per_frame: ${median(wall).toFixed(1)}`);
  // After the run, not per frame: the catalog's sha256 of the closed file (not in the ratio; listed for the record).
  console.log(`catalog_sha256_cpu_ms_per_frame: ${median(checksum).toFixed(1)}`);
  console.log(`raw_fs_cpu_ms_per_frame: ${(fs.cpuMs / FRAMES).toFixed(1)}`);
  console.log(`raw_fs_wall_ms_per_frame: ${(fs.wallMs / FRAMES).toFixed(1)}`);
  console.log(`readout_budget_ms: ${READOUT_MS}`);
  console.log(`ratio: ${(perFrame / READOUT_MS).toFixed(2)}`);
} finally {
  await writer.close();
  rmSync(dir, { recursive: true, force: true });
}
