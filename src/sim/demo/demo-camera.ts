// A simulated area detector for the demo: beam-spot images with a pump-probe ring, plus a slow module-by-pixel map.
import { z } from "zod";
import { nd, nowSec, type StreamFactory } from "../../core/index.js";
import { defineComponent, type ComponentContext } from "../../component/index.js";
import { PacedLoop } from "./paced-loop.js";
import { rng } from "./demo-source.js";

/** Params of the demo camera. */
export const DemoCameraParams = z.strictObject({
  /** Frames per second of the `camera` stream. */
  rateHz: z.number().positive().max(1000).default(10),
  width: z.number().int().min(8).max(4096).default(128),
  height: z.number().int().min(8).max(4096).default(128),
  /** Modules and pixels per module of the slow `map` stream (e.g. 32 x 64 for a CHEC-like camera). */
  modules: z.number().int().min(1).max(1024).default(32),
  modulePixels: z.number().int().min(1).max(4096).default(64),
  /** Frames per second of the `map` stream. */
  mapRateHz: z.number().positive().max(100).default(2),
  /** Delay scan range in ps: each frame takes the next delay of a sawtooth over it. */
  delayRangePs: z.tuple([z.number(), z.number()]).default([-2, 3]),
  seed: z.number().int().default(7),
});
export type DemoCameraParams = z.infer<typeof DemoCameraParams>;

/**
 * Fills one frame: a Gaussian beam spot that wanders slowly, a ring whose brightness rises with the pump-probe
 * delay (a step at 0 ps), and noise. Returns the ring's true signal per unit I0 (what a ROI should measure).
 */
export function fillFrame(
  p: DemoCameraParams,
  r: ReturnType<typeof rng>,
  img: Float32Array,
  tSec: number,
  i0: number,
  delayPs: number,
): number {
  const { width: w, height: h } = p;
  const cx = w * (0.5 + 0.12 * Math.sin(tSec / 7));
  const cy = h * (0.5 + 0.1 * Math.cos(tSec / 11));
  const sigma = Math.max(1.5, w / 24);
  const ringR = Math.min(w, h) * 0.32;
  const ringW = Math.max(1, w / 64);
  const step = 1 / (1 + Math.exp(-delayPs / 0.25));
  const signal = 0.4 + 0.6 * step;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = x - cx;
      const dy = y - cy;
      const d2 = dx * dx + dy * dy;
      const spot = 1000 * i0 * Math.exp(-d2 / (2 * sigma * sigma));
      const rr = Math.sqrt((x - w / 2) ** 2 + (y - h / 2) ** 2) - ringR;
      const ring = 120 * i0 * signal * Math.exp(-(rr * rr) / (2 * ringW * ringW));
      img[y * w + x] = 10 + spot + ring + 3 * r.gauss();
    }
  }
  return signal;
}

/** Fills the module map: a pedestal per module, a bright "star" drifting across the modules, and noise. */
export function fillMap(
  p: DemoCameraParams,
  r: ReturnType<typeof rng>,
  map: Float32Array,
  tSec: number,
): void {
  const n = p.modules * p.modulePixels;
  const star = (((tSec / 2) % n) + n) % n;
  for (let i = 0; i < n; i++) {
    const m = Math.floor(i / p.modulePixels);
    const d = Math.min(Math.abs(i - star), n - Math.abs(i - star));
    map[i] = 100 + 5 * Math.sin(m) + 400 * Math.exp(-(d * d) / 50) + 2 * r.gauss();
  }
}

/** The demo camera: `camera` events (image, i0, delay, signal) and `map` events (pixels [modules, pixels]). */
export const demoCamera = defineComponent<DemoCameraParams>({
  type: "demo-camera",
  description: "simulated area detector: beam-spot images with a pump-probe ring, and a module map (demo)",
  role: "source",
  params: DemoCameraParams,
  create: (initial) => {
    let p = initial;
    const loop = new PacedLoop();
    const r = rng(p.seed);

    /** One frame per step (`frames` counts skipped steps too); the module map every `mapEvery` frames. */
    const producer = (ctx: ComponentContext, cam: StreamFactory, mapS: StreamFactory) => {
      const mapEvery = Math.max(1, Math.round(p.rateHz / p.mapRateHz));
      const [dlo, dhi] = p.delayRangePs;
      return async (frames: number) => {
        const now = nowSec();
        const i0 = Math.max(0.05, 1 + 0.1 * r.gauss());
        const delay = dlo + ((frames * 0.05) % 1) * (dhi - dlo);
        const img = new Float32Array(p.width * p.height);
        const truth = fillFrame(p, r, img, now, i0, delay);
        await ctx.bus.publish(
          cam.event(
            {
              image: nd(img, [p.height, p.width]),
              i0,
              delay,
              signal: truth * (1 + 0.05 * r.gauss()),
              frame: frames,
            },
            now,
          ),
        );
        ctx.counters.inc("frames");
        if (frames % mapEvery === 0) {
          const map = new Float32Array(p.modules * p.modulePixels);
          fillMap(p, r, map, now);
          await ctx.bus.publish(mapS.event({ pixels: nd(map, [p.modules, p.modulePixels]) }, now));
          ctx.counters.inc("maps");
        }
      };
    };

    return {
      configure: (cfg) => {
        p = DemoCameraParams.parse(cfg);
      },
      start: async (_run, ctx) => {
        const cam = ctx.stream("camera", {
          image: { dtype: "float32", shape: [p.height, p.width], units: "counts", source: "sim:camera" },
          i0: { dtype: "float64", shape: [], units: "a.u.", source: "sim:i0-monitor" },
          delay: { dtype: "float64", shape: [], units: "ps", source: "sim:delay-stage" },
          signal: { dtype: "float64", shape: [], units: "a.u.", source: "sim:camera" },
          frame: { dtype: "uint32", shape: [], source: "sim:camera" },
        });
        const mapS = ctx.stream("map", {
          pixels: { dtype: "float32", shape: [p.modules, p.modulePixels], units: "mV", source: "sim:camera" },
        });
        await ctx.bus.publish(cam.descriptor);
        await ctx.bus.publish(mapS.descriptor);
        loop.start(1000 / p.rateHz, producer(ctx, cam, mapS), (err) => ctx.fail("demo camera stopped", err));
      },
      pause: () => loop.pause(),
      resume: () => loop.resume(),
      stop: () => loop.stop(),
      close: () => loop.stop(),
    };
  },
});
