// Synthetic detector frames: a dark level with fixed-pattern offsets, read noise, gain, and a beam spot on shots.
import { rng } from "../demo/demo-source.js";

/** Noisy dark frames precomputed per configuration; frames cycle through them (cheap at 2880 x 2880). */
const VARIANTS = 4;

/**
 * Makes frames of one gain and binning. The dark level rises slightly with gain; fixed-pattern column offsets and
 * read noise are drawn once per configuration; a shot adds a Gaussian beam spot scaled by the gain.
 * @example const s = new FrameSynth({ width: 256, height: 256, gain: 1, darkLevel: 300, noiseAdu: 4, spotAdu: 3000, seed: 1 }); const px = s.frame(true);
 */
export class FrameSynth {
  private readonly darks: Uint16Array[] = [];
  private k = 0;
  private readonly spot: { x0: number; y0: number; w: number; h: number; values: Float32Array };

  constructor(
    readonly o: {
      width: number;
      height: number;
      gain: number;
      darkLevel: number;
      noiseAdu: number;
      spotAdu: number;
      seed: number;
    },
  ) {
    const { width: w, height: h } = o;
    const r = rng(o.seed * 7 + o.gain);
    const level = o.darkLevel * (1 + 0.05 * (o.gain - 1));
    const column = Float32Array.from({ length: w }, () => 6 * r.gauss());
    // Gaussian noise from a table: drawing 8 M normal numbers per variant would take seconds at full size.
    const table = Float32Array.from({ length: 65_537 }, () => o.noiseAdu * r.gauss());
    for (let v = 0; v < VARIANTS; v++) {
      const d = new Uint16Array(w * h);
      let t = Math.floor(r.uniform() * table.length);
      const step = 1 + 2 * Math.floor(r.uniform() * 1000);
      for (let y = 0; y < h; y++) {
        const rowOffset = 2 * Math.sin(y / 37);
        for (let x = 0; x < w; x++) {
          t = (t + step) % table.length;
          d[y * w + x] = Math.max(
            0,
            Math.min(65_535, Math.round(level + column[x]! + rowOffset + table[t]!)),
          );
        }
      }
      this.darks.push(d);
    }
    const sigma = Math.max(2, Math.min(w, h) / 40);
    const half = Math.ceil(4 * sigma);
    const cx = Math.floor(w * 0.55);
    const cy = Math.floor(h * 0.45);
    const x0 = Math.max(0, cx - half);
    const y0 = Math.max(0, cy - half);
    const sw = Math.min(w, cx + half) - x0;
    const sh = Math.min(h, cy + half) - y0;
    const values = new Float32Array(sw * sh);
    for (let y = 0; y < sh; y++) {
      for (let x = 0; x < sw; x++) {
        const dx = x0 + x - cx;
        const dy = y0 + y - cy;
        values[y * sw + x] = o.spotAdu * o.gain * Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
      }
    }
    this.spot = { x0, y0, w: sw, h: sh, values };
  }

  /** A fresh frame (owned by the caller): the next dark variant, plus the beam spot when `shot`. */
  frame(shot: boolean): Uint16Array {
    const out = new Uint16Array(this.darks[this.k]!);
    this.k = (this.k + 1) % VARIANTS;
    if (shot) {
      const { x0, y0, w, h, values } = this.spot;
      const W = this.o.width;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = (y0 + y) * W + x0 + x;
          out[i] = Math.min(65_535, out[i]! + Math.round(values[y * w + x]!));
        }
      }
    }
    return out;
  }
}
