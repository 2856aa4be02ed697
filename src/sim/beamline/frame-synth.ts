// Synthetic MPCCD-like frames: read noise plus X-ray photons in a ring or spot whose number follows I0 and the delay.
import { erf, type Rng } from "../../core/index.js";
import type { SimDetector } from "./sim-options.js";

/** Time resolution (ps, sigma) and decay time (ps) of the simulated pump-probe effect. */
const RISE_PS = 0.1;
const DECAY_PS = 1.5;
/** Noise samples drawn once per detector; rows copy windows of it at random offsets (cheap at 30 Hz). */
const NOISE_TABLE = 1 << 18;

/**
 * The simulated sample's response at a pump-probe delay: 1 before time zero, `1 + effect` right after it
 * (rising with 0.1 ps resolution), relaxing back with a 1.5 ps decay.
 * @example delayResponse(-1, 0.8); // 1
 */
export function delayResponse(delayPs: number, effect: number): number {
  const rise = 0.5 * (1 + erf(delayPs / (RISE_PS * Math.SQRT2)));
  return 1 + effect * rise * Math.exp(-Math.max(delayPs, 0) / DECAY_PS);
}

/**
 * Makes the frames of one detector. Frames are raw values (calibrated = raw x gain): Gaussian read noise
 * everywhere and, per shot, Poisson(photons x I0 x response(delay)) photons of `photonValue` each, in a ring
 * around the centre or a spot. Every frame is a fresh array (a sent frame is never reused).
 * @example const s = new DetectorSynth(SimDetectorSchema.parse({ name: "mpccd1" }), seededRng(1)); s.frame(0.5, 1.2);
 */
export class DetectorSynth {
  private readonly noise: Float32Array;
  private readonly cx: number;
  private readonly cy: number;
  private readonly radius: number;
  private readonly widthPx: number;

  constructor(
    readonly d: SimDetector,
    private readonly rng: Rng,
  ) {
    const scale = d.noise / d.gain;
    this.noise = Float32Array.from({ length: NOISE_TABLE + d.width }, () => scale * rng.normal());
    if (d.pattern === "ring") {
      this.cx = d.width / 2;
      this.cy = d.height / 2;
      this.radius = Math.min(d.width, d.height) * 0.35;
      this.widthPx = 4;
    } else {
      this.cx = d.width * 0.7;
      this.cy = d.height * 0.35;
      this.radius = 0;
      this.widthPx = 6;
    }
  }

  /** Mean photons of a shot with this I0 and delay. */
  meanPhotons(i0: number, delayPs: number): number {
    return Math.max(0, this.d.photons * i0 * delayResponse(delayPs, this.d.effect));
  }

  /** A new raw frame `[height, width]` (row-major) and the number of photons in it. */
  frame(i0: number, delayPs: number): { frame: Float32Array; photons: number } {
    const { width: w, height: h } = this.d;
    const img = new Float32Array(w * h);
    for (let y = 0; y < h; y++) {
      const o = Math.floor(this.rng.uniform() * NOISE_TABLE);
      img.set(this.noise.subarray(o, o + w), y * w);
    }
    const n = this.rng.poisson(this.meanPhotons(i0, delayPs));
    const v = this.d.photonValue / this.d.gain;
    let placed = 0;
    for (let k = 0; k < n; k++) {
      let x: number;
      let y: number;
      if (this.radius > 0) {
        const phi = 2 * Math.PI * this.rng.uniform();
        const r = this.radius + this.widthPx * this.rng.normal();
        x = this.cx + r * Math.cos(phi);
        y = this.cy + r * Math.sin(phi);
      } else {
        x = this.cx + this.widthPx * this.rng.normal();
        y = this.cy + this.widthPx * this.rng.normal();
      }
      const xi = Math.floor(x);
      const yi = Math.floor(y);
      if (xi < 0 || yi < 0 || xi >= w || yi >= h) continue;
      img[yi * w + xi]! += v;
      placed++;
    }
    return { frame: img, photons: placed };
  }
}
