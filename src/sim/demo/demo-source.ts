// A simulated detector for the demo instrument: pulse waveforms in pages plus slow counters, at a configurable rate.
import { z } from "zod";
import { nd, nowSec, type StreamFactory } from "../../core/index.js";
import { defineComponent, type ComponentContext } from "../../component/index.js";
import { PacedLoop } from "./paced-loop.js";

/** Params of the demo source. */
export const DemoSourceParams = z.strictObject({
  /** Events (waveforms) per second. */
  rateHz: z.number().positive().max(1_000_000).default(200),
  /** Samples per waveform. */
  samples: z.number().int().min(8).max(65_536).default(256),
  /** Events per event-page (the batch the bus carries). */
  pageSize: z.number().int().min(1).max(100_000).default(20),
  /** Number of channels the events are spread over. */
  channels: z.number().int().min(1).max(256).default(8),
  /** Mean pulse amplitude in ADC counts. */
  amplitude: z.number().positive().default(800),
  /** Seed for the random generator (reproducible data). */
  seed: z.number().int().default(1),
});
export type DemoSourceParams = z.infer<typeof DemoSourceParams>;

/** A small fast deterministic RNG (mulberry32) with a gaussian helper. */
export function rng(seed: number): { uniform: () => number; gauss: () => number } {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(uniform() || 1e-12)) * Math.cos(2 * Math.PI * uniform());
  return { uniform, gauss };
}

/**
 * Fills one page: for each event a baseline + noise + a pulse whose amplitude follows a two-peak spectrum
 * (a main line and a 2x line, like single and double photo-electrons), and returns the peak heights.
 */
export function fillWaveforms(
  p: DemoSourceParams,
  r: ReturnType<typeof rng>,
  n: number,
  adc: Uint16Array,
  peak: Float32Array,
  channel: Uint8Array,
): void {
  const s = p.samples;
  const t0 = s / 4;
  const width = Math.max(2, s / 64);
  for (let i = 0; i < n; i++) {
    const twoPe = r.uniform() < 0.2;
    const amp = Math.max(0, p.amplitude * (twoPe ? 2 : 1) * (1 + 0.15 * r.gauss()));
    peak[i] = amp;
    channel[i] = Math.floor(r.uniform() * p.channels);
    const base = i * s;
    for (let k = 0; k < s; k++) {
      const x = (k - t0) / width;
      const pulse = x > 0 ? amp * x * Math.exp(1 - x) : 0;
      const v = 200 + pulse + 4 * r.gauss();
      adc[base + k] = v < 0 ? 0 : v > 65535 ? 65535 : v;
    }
  }
}

/** The demo source component: streams `waveforms` (pages) and `counters` (1 Hz events). */
export const demoSource = defineComponent<DemoSourceParams>({
  type: "demo-source",
  description: "simulated pulse waveforms and counters (demo instrument)",
  role: "source",
  params: DemoSourceParams,
  create: (initial) => {
    let p = initial;
    const loop = new PacedLoop();
    const r = rng(p.seed);

    /** One page of waveforms per step; the counters once a second. */
    const producer = (ctx: ComponentContext, wf: StreamFactory, counters: StreamFactory) => {
      const pageMs = (p.pageSize / p.rateHz) * 1000;
      let lastSlow = 0;
      let triggers = 0;
      return async () => {
        const n = p.pageSize;
        const adc = new Uint16Array(n * p.samples);
        const peak = new Float32Array(n);
        const channel = new Uint8Array(n);
        fillWaveforms(p, r, n, adc, peak, channel);
        const now = nowSec();
        const time = new Float64Array(n);
        for (let i = 0; i < n; i++) time[i] = now - ((n - 1 - i) * pageMs) / 1000 / n;
        await ctx.bus.publish(
          wf.page(time, { adc: nd(adc, [n, p.samples]), peak: nd(peak), channel: nd(channel) }),
        );
        triggers += n;
        ctx.counters.inc("events", n);
        ctx.counters.inc("pages");
        if (now - lastSlow >= 1) {
          lastSlow = now;
          await ctx.bus.publish(
            counters.event({ triggers, temperature: 24 + 0.5 * Math.sin(now / 60) + 0.02 * r.gauss() }, now),
          );
        }
      };
    };

    return {
      configure: (cfg) => {
        p = DemoSourceParams.parse(cfg);
      },
      start: async (_run, ctx) => {
        const wf = ctx.stream("waveforms", {
          adc: { dtype: "uint16", shape: [p.samples], units: "counts", source: "sim:digitiser" },
          peak: { dtype: "float32", shape: [], units: "counts", source: "sim:digitiser" },
          channel: { dtype: "uint8", shape: [], source: "sim:digitiser" },
        });
        const counters = ctx.stream("counters", {
          triggers: { dtype: "uint32", shape: [], source: "sim:scaler" },
          temperature: { dtype: "float64", shape: [], units: "degC", source: "sim:sensor" },
        });
        await ctx.bus.publish(wf.descriptor);
        await ctx.bus.publish(counters.descriptor);
        loop.start((p.pageSize / p.rateHz) * 1000, producer(ctx, wf, counters), (err) =>
          ctx.fail("demo source stopped", err),
        );
      },
      pause: () => loop.pause(),
      resume: () => loop.resume(),
      stop: () => loop.stop(),
      close: () => loop.stop(),
    };
  },
});
