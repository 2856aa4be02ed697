// `hutch sim pmt`: a whole scan's point files in a directory, with the simulated truth beside them.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { chargeOfGain, simulatePmtPulses } from "./pmt-pulses.js";
import { writePointFile } from "./pmt-point-writer.js";
import { simEventsAt, simGainAt, simSeedAt, type PmtSimParams } from "./pmt-sim-params.js";

/** One simulated point as written. */
export interface SimulatedPoint {
  readonly point: number;
  readonly file: string;
  readonly events: number;
  readonly gain: number;
  readonly mu1Pc: number;
}

/**
 * Writes `point-00.npy` .. for `points` scan points (or one per HV value, at point 0) into `outDir`, and
 * `truth.json` listing the gain and triggers of each.
 * @example writePmtScanFiles("scan", 21, params); // then: hutch pmt analyse scan/point-05.npy --out r.json
 */
export function writePmtScanFiles(
  outDir: string,
  points: number,
  p: PmtSimParams,
  hvV?: readonly number[],
): SimulatedPoint[] {
  const out: SimulatedPoint[] = [];
  const n = hvV?.length ?? points;
  for (let k = 0; k < n; k++) {
    const hv = hvV?.[k];
    const gain = simGainAt(p, k, hv);
    const events = simEventsAt(p, k);
    const file = join(outDir, `point-${String(k).padStart(2, "0")}.npy`);
    writePointFile(file, simulatePmtPulses(gain, events, simSeedAt(p, k, hv), p));
    out.push({ point: k, file, events, gain, mu1Pc: chargeOfGain(gain), ...(hv ? { hvV: hv } : {}) });
  }
  writeFileSync(join(outDir, "truth.json"), JSON.stringify(out, null, 1));
  return out;
}
