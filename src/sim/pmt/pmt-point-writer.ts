// Writes a scan point's pulses as the DAQ would: a float32 [n, 2] .npy file (charge pC, time ns), atomically.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { encodeNpyFloat32 } from "../../codecs/index.js";
import { pointRows, type PmtPulses } from "./pmt-pulses.js";

/**
 * Writes `path` through a temporary name, so a job never reads half a file. `numpy.load(path)` reads it.
 * @example writePointFile("var/scans/EA1234/point-07.npy", simulatePmtPulses(1.02e7, 10_000, 7));
 */
export function writePointFile(path: string, p: PmtPulses): number {
  mkdirSync(dirname(path), { recursive: true });
  const buf = encodeNpyFloat32({ shape: [p.chargePc.length, 2], data: pointRows(p) });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, buf);
  renameSync(tmp, path);
  return buf.length;
}
