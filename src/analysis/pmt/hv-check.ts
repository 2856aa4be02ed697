// HV check: straight-line fit of log10(gain) vs log10(HV) over a few voltages, and the HV that gives a target gain.
import { ErrorCode, HutchError, fitLine } from "../../core/index.js";

/** One voltage of the check. */
export interface HvPoint {
  readonly hvV: number;
  readonly gain: number;
  readonly gainError: number;
}

/** The fitted line and the voltage for the target gain. */
export interface HvCheckResult {
  /** log10(gain) = intercept + slope x log10(HV). */
  readonly slope: number;
  readonly slopeError: number;
  readonly intercept: number;
  readonly interceptError: number;
  readonly chi2: number;
  readonly ndf: number;
  readonly targetGain: number;
  /** The voltage where the line reaches the target gain, with its error from the fit's covariance. */
  readonly hvAtTargetV: number;
  readonly hvAtTargetErrorV: number;
  /** Points used (those with a finite gain). */
  readonly points: number;
}

/**
 * Fits log10(gain) = a + b log10(HV) weighted by the gain errors (sigma of log10 g = dg / (g ln 10)) and solves
 * for the HV of `targetGain`. Needs 3 or more points with a gain.
 * @example hvCheck([{ hvV: 1600, gain: 4.4e6, gainError: 3e4 }, ...], 1e7).hvAtTargetV;
 */
export function hvCheck(points: readonly HvPoint[], targetGain = 1e7): HvCheckResult {
  const ok = points.filter((p) => Number.isFinite(p.gain) && p.gain > 0 && p.hvV > 0);
  if (ok.length < 3) {
    throw new HutchError(
      ErrorCode.Validation,
      `HV check: ${ok.length} voltages with a gain, need at least 3`,
    );
  }
  const x = ok.map((p) => Math.log10(p.hvV));
  const y = ok.map((p) => Math.log10(p.gain));
  const haveErrors = ok.every((p) => Number.isFinite(p.gainError) && p.gainError > 0);
  const sigma = haveErrors ? ok.map((p) => p.gainError / (p.gain * Math.LN10)) : undefined;
  const l = fitLine(x, y, sigma);
  const ly = Math.log10(targetGain);
  const lx = (ly - l.intercept) / l.slope;
  // d lx / d intercept = -1 / slope; d lx / d slope = -(ly - intercept) / slope^2.
  const da = -1 / l.slope;
  const db = -(ly - l.intercept) / (l.slope * l.slope);
  const varLx = da * da * l.interceptError ** 2 + db * db * l.slopeError ** 2 + 2 * da * db * l.covariance;
  const hv = 10 ** lx;
  return {
    slope: l.slope,
    slopeError: l.slopeError,
    intercept: l.intercept,
    interceptError: l.interceptError,
    chi2: l.chi2,
    ndf: l.ndf,
    targetGain,
    hvAtTargetV: hv,
    hvAtTargetErrorV: hv * Math.LN10 * Math.sqrt(Math.max(varLx, 0)),
    points: ok.length,
  };
}
