// PMT pulse simulation for one scan point: pedestal, 1 PE and 2 PE charges from a gain, and hit times.
import { ELEMENTARY_CHARGE_C, seededRng } from "../../core/index.js";

/** How the simulated PMT behaves (defaults: an R12860-like tube in a dark box with a pulsed LED). */
export interface PmtPulseModel {
  /** Fraction of triggers without a photoelectron (pedestal, charge ~ N(0, pedestalSigmaPc)). */
  readonly pedestalFraction: number;
  readonly pedestalSigmaPc: number;
  /** Fraction of photoelectron pulses that are 2 PE (charge ~ N(2 mu1, sqrt(2) sigma1)). */
  readonly twoPeFraction: number;
  /** 1 PE width relative to its mean (sigma1 = sigmaRel x mu1). */
  readonly sigmaRel: number;
  /** LED-correlated hits: t_PMT - t_trigger ~ N(timeMeanNs, timeSigmaNs). */
  readonly timeMeanNs: number;
  readonly timeSigmaNs: number;
  /** Fraction of pulses that are dark hits or after-pulses, uniform over [0, recordNs). */
  readonly offTimeFraction: number;
  readonly recordNs: number;
}

/** The default model: LED hits inside the 321..330 ns window, dark hits spread over a 1 µs record. */
export const PMT_PULSE_DEFAULTS: PmtPulseModel = {
  pedestalFraction: 0.3,
  pedestalSigmaPc: 0.1,
  twoPeFraction: 0.2,
  sigmaRel: 0.3,
  timeMeanNs: 325.5,
  timeSigmaNs: 1.2,
  offTimeFraction: 0.1,
  recordNs: 1000,
};

/** The 1 PE charge of a gain: mu1 [pC] = gain x e / 1e-12. */
export function chargeOfGain(gain: number): number {
  return (gain * ELEMENTARY_CHARGE_C) / 1e-12;
}

/** Simulated pulses of one point: charge (pC) and time (ns) per trigger, float32. */
export interface PmtPulses {
  readonly chargePc: Float32Array;
  readonly timeNs: Float32Array;
}

/**
 * `events` triggers of a PMT at `gain`: each is a pedestal, or a 1 PE or 2 PE pulse, in time with the LED or
 * (a fraction) at a random time. Reproducible for a seed.
 * @example const p = simulatePmtPulses(1.02e7, 10_000, 7); // mu1 = 1.634 pC
 */
export function simulatePmtPulses(
  gain: number,
  events: number,
  seed: number,
  model: Partial<PmtPulseModel> = {},
): PmtPulses {
  const m = { ...PMT_PULSE_DEFAULTS, ...model };
  const rng = seededRng(seed);
  const mu1 = chargeOfGain(gain);
  const s1 = m.sigmaRel * mu1;
  const chargePc = new Float32Array(events);
  const timeNs = new Float32Array(events);
  for (let i = 0; i < events; i++) {
    if (rng.uniform() < m.pedestalFraction) {
      chargePc[i] = rng.normal(0, m.pedestalSigmaPc);
      timeNs[i] = rng.uniform() * m.recordNs;
      continue;
    }
    const k = rng.uniform() < m.twoPeFraction ? 2 : 1;
    chargePc[i] = rng.normal(k * mu1, Math.sqrt(k) * s1);
    timeNs[i] =
      rng.uniform() < m.offTimeFraction
        ? rng.uniform() * m.recordNs
        : rng.normal(m.timeMeanNs, m.timeSigmaNs);
  }
  return { chargePc, timeNs };
}

/** Column order of a point file: `float32[n, 2]` .npy with charge (pC) then time (ns) per trigger. */
export const POINT_FILE_COLUMNS = ["charge_pc", "time_ns"] as const;

/** Interleaves pulses as the `[n, 2]` rows of a point file. */
export function pointRows(p: PmtPulses): Float32Array {
  const n = p.chargePc.length;
  const rows = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    rows[2 * i] = p.chargePc[i]!;
    rows[2 * i + 1] = p.timeNs[i]!;
  }
  return rows;
}
