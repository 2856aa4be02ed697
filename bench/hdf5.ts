// Benchmark: HDF5 writer throughput for 1 MiB frames (documents -> worker -> h5wasm) vs raw fs writes of the same bytes.
// Run: npm run build && npm run bench -- hdf5 [frames]   (headline `ratio:` = writer MiB/s / raw fs MiB/s, goal >= 0.7)
// One writer serves the repeats, after a first run, as the writer component serves run after run.
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nd, RunFactory, StreamFactory } from "../src/core/index.js";
import { Hdf5Writer } from "../src/storage/index.js";

const FRAMES = Number(process.argv[2] ?? 384);
const REPEATS = 3;
const MiB = 1 << 20;
const SHAPE = [512, 1024] as const; // uint16: 1 MiB per frame

// A few distinct frames, cycled (a source reuses its buffers; the writer copies each once). Detector-like
// content: a pedestal of 1000 counts plus 6 bits of noise (gzip squeezes it about 2x).
let seed = 0x2545f491;
const noise = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) & 63;
};
const frames = Array.from({ length: 8 }, () => Uint16Array.from({ length: MiB / 2 }, () => 1000 + noise()));
let dir = mkdtempSync(join(tmpdir(), "hutch-bench-hdf5-"));

/** Raw fs: the same bytes, one write per frame, fsync at the end (the writer fsyncs its file at close). */
function rawFs(copies = 1): number {
  const paths = Array.from({ length: copies }, (_, i) => join(dir, `raw${i}.bin`));
  const t0 = performance.now();
  const fds = paths.map((p) => openSync(p, "w"));
  for (let i = 0; i < FRAMES; i++) for (const fd of fds) writeSync(fd, frames[i % frames.length]!);
  for (const fd of fds) {
    fsyncSync(fd);
    closeSync(fd);
  }
  const s = (performance.now() - t0) / 1000;
  for (const p of paths) rmSync(p);
  return FRAMES / s;
}

let runNumber = 0;

/**
 * The writer's path: event-page documents (one frame each) -> batches -> worker -> h5wasm, until the file is closed
 * (and fsynced). `w` is long-lived, as the writer component is: its worker and arenas serve run after run.
 */
async function writerRun(w: Hdf5Writer): Promise<number> {
  const run = RunFactory.open({ run: ++runNumber, instrument: "bench", plan: "count", config: {} });
  const s = new StreamFactory(run.info, "frames", { img: { dtype: "uint16", shape: [...SHAPE] } });
  await w.write(run.start);
  await w.write(s.descriptor);
  const t0 = performance.now();
  for (let i = 0; i < FRAMES; i++) {
    await w.write(s.page(Float64Array.of(i), { img: nd(frames[i % frames.length]!, [1, ...SHAPE]) }));
  }
  await w.write(run.stop("success", "bench"));
  await w.drain(); // the run-stop's batch closes (and fsyncs) the file
  const s2 = (performance.now() - t0) / 1000;
  const files = await w.runFinished(run.start.uid);
  for (const f of files) rmSync(f.path);
  return FRAMES / s2;
}

/** A writer with its first run done (worker heap and arenas grown), as after a run of the component. */
async function warmWriter(opts: { gzip?: number; flushIntervalMs?: number } = {}): Promise<Hdf5Writer> {
  const w = await Hdf5Writer.open({
    directory: dir,
    gzip: opts.gzip ?? 0,
    flushIntervalMs: opts.flushIntervalMs ?? 1000,
  });
  await writerRun(w);
  return w;
}

/** One run with a writer of these options. */
async function writer(opts: { gzip?: number; flushIntervalMs?: number } = {}): Promise<number> {
  const w = await warmWriter(opts);
  try {
    return await writerRun(w);
  } finally {
    await w.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Alternates raw fs and the writer, REPEATS times each, in `where`; medians in MiB/s. */
async function compare(where: string): Promise<{ fs: number; h5: number }> {
  dir = mkdtempSync(join(where, "hutch-bench-hdf5-"));
  const fs: number[] = [];
  const h5: number[] = [];
  const w = await warmWriter();
  try {
    for (let r = 0; r < REPEATS; r++) {
      fs.push(rawFs());
      h5.push(await writerRun(w));
    }
  } finally {
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { fs: median(fs), h5: median(h5) };
}

const firstDir = dir;
const disk = await compare(tmpdir());
rmSync(firstDir, { recursive: true, force: true });
console.log(
  `frames: ${FRAMES} x 1 MiB, ${REPEATS} repeats (median), files in ${tmpdir()}, fsync at the end of both`,
);
console.log(`fs_MiB_per_s: ${disk.fs.toFixed(0)}`);
console.log(`hdf5_MiB_per_s: ${disk.h5.toFixed(0)}`);
// Page cache only (tmpfs): no disk in the way, so this compares the CPU cost of the two paths.
if (existsSync("/dev/shm")) {
  const mem = await compare("/dev/shm");
  console.log(`tmpfs_fs_MiB_per_s: ${mem.fs.toFixed(0)}`);
  console.log(`tmpfs_hdf5_MiB_per_s: ${mem.h5.toFixed(0)}`);
  console.log(`tmpfs_ratio: ${(mem.h5 / mem.fs).toFixed(2)}`);
}
// Crash-safety options measured in the same run (docs/files.md): flushing (SWMR) often vs a journal beside the file.
dir = mkdtempSync(join(tmpdir(), "hutch-bench-hdf5-"));
try {
  console.log(`hdf5_flush_100ms_MiB_per_s: ${(await writer({ flushIntervalMs: 100 })).toFixed(0)}`);
  console.log(`fs_twice_journal_emulation_MiB_per_s: ${rawFs(2).toFixed(0)}`);
  console.log(`hdf5_gzip1_MiB_per_s: ${(await writer({ gzip: 1 })).toFixed(0)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`ratio: ${(disk.h5 / disk.fs).toFixed(2)}`);
