// Bench: CPU used by ROI sums at 30 Hz with 4 ROIs on 512 x 1024 float32 frames, worker threads vs the inline stage.
// Frames come from the beamline simulator's synthesis (made beforehand), published as the beamline source does.
import { roiNode, roiWorkerNode } from "../src/analysis/index.js";
import type { ComponentDef } from "../src/component/index.js";
import { StreamFactory, nd, nowSec, roiMask, seededRng, type Roi } from "../src/core/index.js";
import { DetectorSynth, SimDetectorSchema } from "../src/sim/index.js";
import { InprocBus } from "../src/transport/index.js";
import { hostStage } from "../test/helpers/analysis-context.js";

const W = 1024;
const H = 512;
const RATE_HZ = Number(process.env.ROI_BENCH_HZ ?? 30);
const SECONDS = Number(process.env.ROI_BENCH_S ?? 8);
const ROIS = [
  { name: "ring", kind: "rect", x0: 150, y0: 60, x1: 874, y1: 120 },
  { name: "spot", kind: "rect", x0: 690, y0: 160, x1: 745, y1: 200 },
  {
    name: "wedge",
    kind: "polygon",
    points: [
      [512, 256],
      [1000, 40],
      [1000, 470],
    ],
  },
  { name: "half", kind: "rect", x0: 0, y0: 0, x1: 1024, y1: 256 },
] as const;
const COMMON = {
  input: "mpccd1",
  image: "frame",
  rois: ROIS,
  threshold: 1000 / 3.65,
  carry: ["tag", "i0"],
  publishIntervalMs: 250,
};

interface Trial {
  /** Process CPU (all threads) per wall second. */
  cpu: number;
  /** Main event loop utilisation. */
  elu: number;
  /** Worker busy time per wall second (0 inline). */
  busy: number;
  rows: number;
  sent: number;
}

const synth = new DetectorSynth(
  SimDetectorSchema.parse({ name: "mpccd1", width: W, height: H }),
  seededRng(1),
);
const frames = Array.from({ length: 30 }, (_, k) => synth.frame(0.5, (k % 10) / 2 - 1).frame);

async function trial(def: ComponentDef<never> | undefined, params: Record<string, unknown>): Promise<Trial> {
  const bus = new InprocBus("bench");
  const h = def ? await hostStage(def, params, { bus, name: "rois" }) : undefined;
  let rows = 0;
  const untap = bus.tap("bench/rois/", ({ doc }) => {
    if (doc.kind === "event-page") rows += doc.n;
  });
  const run = h ? await h.start() : undefined;
  const s = new StreamFactory(run?.info ?? { uid: "x", run: 0, instrument: "bench" }, "mpccd1", {
    frame: { dtype: "float32", shape: [H, W] },
    tag: { dtype: "uint32", shape: [] },
    i0: { dtype: "float64", shape: [] },
  });
  await bus.publish(s.descriptor);
  const periodMs = 1000 / RATE_HZ;
  const warm = RATE_HZ; // one second first: the worker starts (loads its modules), the JIT settles
  const total = Math.round(SECONDS * RATE_HZ) + warm;
  let cpu0 = process.cpuUsage();
  let elu0 = performance.eventLoopUtilization();
  let busy0 = 0;
  const t0 = performance.now();
  let tm = t0;
  for (let k = 0; k < total; k++) {
    if (k === warm) {
      cpu0 = process.cpuUsage();
      elu0 = performance.eventLoopUtilization();
      busy0 = h?.counters.get("worker_busy_ms") ?? 0;
      tm = performance.now();
    }
    const wait = t0 + k * periodMs - performance.now();
    await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    const f = frames[k % frames.length]!;
    await bus.publish(
      s.page(Float64Array.of(nowSec()), {
        frame: nd(f, [1, H, W]),
        tag: nd(Uint32Array.of(k)),
        i0: nd(Float64Array.of(0.5)),
      }),
    );
  }
  const wallMs = performance.now() - tm;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  const busy = (h?.counters.get("worker_busy_ms") ?? 0) - busy0;
  await h?.stop();
  untap();
  await h?.close();
  bus.close();
  return {
    cpu: (cpu.user + cpu.system) / 1000 / wallMs,
    elu: elu.utilization,
    busy: busy / wallMs,
    rows,
    sent: total,
  };
}

const pixels = ROIS.reduce((a, r) => a + roiMask(r as unknown as Roi, W, H).pixels, 0);
console.log(
  `roi bench: ${SECONDS} s per trial at ${RATE_HZ} Hz, ${ROIS.length} ROIs (${pixels} pixels) on ${H} x ${W} float32`,
);
await trial(roiWorkerNode as ComponentDef<never>, { ...COMMON, workers: 1 }); // warm-up (JIT, worker start)
const base = await trial(undefined, {});
const inline = await trial(roiNode as ComponentDef<never>, COMMON);
const worker = await trial(roiWorkerNode as ComponentDef<never>, { ...COMMON, workers: 1 });
for (const [name, t] of [
  ["inline", inline],
  ["worker", worker],
] as const) {
  if (t.rows !== t.sent)
    console.log(`warning: ${name}: ${t.rows} rows for ${t.sent} frames (input queue dropped some)`);
}
const f = (x: number) => x.toFixed(3);
console.log(`frames_per_s: ${RATE_HZ}`);
console.log(`roi_pixels_per_frame: ${pixels}`);
console.log(`baseline_cpu_fraction: ${f(base.cpu)}`); // publishing the frames, nobody summing
console.log(`inline_cpu_fraction: ${f(inline.cpu - base.cpu)}`); // roi-sum on the main thread
console.log(`inline_main_loop_fraction: ${f(inline.elu - base.elu)}`);
console.log(`worker_cpu_fraction: ${f(worker.cpu - base.cpu)}`); // roi-sum-worker, all threads
console.log(`worker_main_loop_fraction: ${f(worker.elu - base.elu)}`);
console.log(`worker_thread_busy_fraction: ${f(worker.busy)}`);
console.log(`worker_rows: ${worker.rows} of ${worker.sent}`);
console.log(`cpu_fraction: ${f(worker.cpu - base.cpu)}`);
// Headline: the main thread's load with the sums in a worker, against the inline stage (lower is better).
console.log(`ratio: ${f((worker.elu - base.elu) / (inline.elu - base.elu))}`);
