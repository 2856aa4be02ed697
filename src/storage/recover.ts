// `hutch recover FILE`: makes a run file left open by a crashed writer readable by any HDF5 reader, and says so in it.
import type { Dataset } from "h5wasm/node";
import { ErrorCode, HutchError } from "../core/index.js";
import { attr } from "./h5-types.js";
import type { H5Module } from "./h5-attrs.js";
import { writeAttrs } from "./h5-attrs.js";
import { clearOpenFlags } from "./superblock.js";

/** What {@link recoverRunFile} found and did. */
export interface RecoverReport {
  readonly path: string;
  /** Superblock flags found (1 = open for write, 5 = open for SWMR write; 0 = the file was closed cleanly). */
  readonly flagsFound: number;
  /** Rows kept per stream (generic layout). */
  readonly rows: Record<string, number>;
  /** Rows dropped from longer datasets of a stream so that its columns have equal lengths. */
  readonly trimmed: Record<string, number>;
  /** True when the file already had its run-stop attributes (nothing was rewritten). */
  readonly complete: boolean;
}

/**
 * Recovers a run file after `kill -9` (or power loss) of its writer. The writer works in SWMR mode and flushes
 * every half flush interval, so the file on disk is consistent up to its last flush; what is left is the
 * "open for write" flag (cleared here, like `h5clear -s`), datasets of a stream with unequal lengths (trimmed to
 * the shortest) and the missing run-stop attributes (written as exit_status "fail", reason "recovered ...").
 * @example const r = await recoverRunFile("var/data/demo_run00042_20260121_p1.h5"); console.log(r.rows);
 */
export async function recoverRunFile(path: string): Promise<RecoverReport> {
  let flagsFound: number;
  try {
    flagsFound = clearOpenFlags(path);
  } catch (cause) {
    throw new HutchError(ErrorCode.Io, `cannot recover ${path}: ${(cause as Error).message}`, { cause });
  }
  const h5wasm = (await import("h5wasm/node")).default;
  const mod = (await h5wasm.ready) as H5Module;
  const f = new h5wasm.File(path, "a", { libver: "v110" });
  if (f.file_id < 0n)
    throw new HutchError(
      ErrorCode.Io,
      `cannot recover ${path}: HDF5 cannot open it even after clearing its flags`,
    );
  const rows: Record<string, number> = {};
  const trimmed: Record<string, number> = {};
  const complete = f.attrs.exit_status !== undefined;
  try {
    if (f.attrs.hutch_layout?.value === "generic") {
      let lastTime = Number(f.attrs.start_time?.value ?? 0);
      for (const stream of f.keys()) {
        const g = f.get(stream);
        if (!(g instanceof h5wasm.Group) || !g.attrs.descriptor) continue;
        const sets: Dataset[] = [];
        for (const p of [`/${stream}/seq`, `/${stream}/time`]) sets.push(f.get(p) as Dataset);
        const data = f.get(`/${stream}/data`) as InstanceType<typeof h5wasm.Group>;
        for (const k of data.keys()) sets.push(f.get(`/${stream}/data/${k}`) as Dataset);
        const n = Math.min(...sets.map((d) => d.shape![0]!));
        for (const d of sets) {
          const extra = d.shape![0]! - n;
          if (extra > 0) {
            mod.resize_dataset(f.file_id, d.path, [BigInt(n), ...d.shape!.slice(1).map((x) => BigInt(x))]);
            trimmed[d.path] = extra;
          }
        }
        rows[stream] = n;
        if (n > 0) lastTime = Math.max(lastTime, (sets[1]!.slice([[n - 1, n]]) as Float64Array)[0]!);
      }
      if (!complete) {
        writeAttrs(h5wasm, mod, f.file_id, "/", {
          stop_time: attr.float64(lastTime),
          exit_status: "fail",
          reason:
            "recovered: the writer stopped without closing the file (crash); data after its last flush is lost",
          stop_uid: "",
          counts: JSON.stringify(rows),
          recovered: true,
        });
      }
    }
  } finally {
    f.close();
  }
  return { path, flagsFound, rows, trimmed, complete };
}
