// Point files and result files of the PMT analysis job: read a float32 [n, 2] .npy, write a JSON result atomically.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { decodeNpyFloat32 } from "../../codecs/index.js";
import { ErrorCode, HutchError } from "../../core/index.js";
import {
  analysePmtPoint,
  PMT_ANALYSIS_DEFAULTS,
  type PmtAnalysisOptions,
  type PmtPointResult,
} from "./pmt-point-analysis.js";

/** A point file's columns: charge (pC) and t_PMT - t_trigger (ns) per trigger. */
export interface PointData {
  readonly chargePc: Float32Array;
  readonly timeNs: Float32Array;
}

/** Reads a point file (`float32[n, 2]`, columns charge_pc, time_ns), refusing any other shape with the reason. */
export function readPointFile(path: string): PointData {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (cause) {
    throw new HutchError(ErrorCode.Io, `cannot read point file ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const a = decodeNpyFloat32(buf);
  if (a.shape.length !== 2 || a.shape[1] !== 2) {
    throw new HutchError(
      ErrorCode.Validation,
      `${path}: expected float32 [n, 2] (charge_pc, time_ns), got [${a.shape.join(", ")}]`,
    );
  }
  const n = a.shape[0]!;
  const chargePc = new Float32Array(n);
  const timeNs = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    chargePc[i] = a.data[2 * i]!;
    timeNs[i] = a.data[2 * i + 1]!;
  }
  return { chargePc, timeNs };
}

/** A result as written: the analysis plus who asked (serial, cell, hv) and the input's name. */
export type PmtResultFile = PmtPointResult & { serial?: string; cell?: number; hv?: number; input: string };

/**
 * Analyses a point file and writes the result JSON (through a temporary name: a reader never sees half of it).
 * NaN values are written as `null`.
 * @example analysePointFile("point-07.npy", "result.json", { serial: "EA1234", cell: 7 });
 */
export function analysePointFile(
  input: string,
  output: string,
  extra: { serial?: string; cell?: number; hv?: number } = {},
  o: PmtAnalysisOptions = PMT_ANALYSIS_DEFAULTS,
): PmtResultFile {
  const d = readPointFile(input);
  const r: PmtResultFile = { ...analysePmtPoint(d.chargePc, d.timeNs, o), ...extra, input };
  const tmp = `${output}.tmp`;
  writeFileSync(tmp, JSON.stringify(r));
  renameSync(tmp, output);
  return r;
}
