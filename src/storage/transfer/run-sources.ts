// Which local files belong to a run: path patterns with {run}, {instrument} and * wildcards, directories walked.
import { readdir, stat } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { readSuperblock } from "../superblock.js";

const TOKEN = /\{(run|instrument)(?::(\d+))?\}/g;

/** Fills `{run}`, `{run:05}` and `{instrument}` in a pattern. */
export function fillRunPattern(pattern: string, run: number, instrument: string): string {
  return pattern.replace(TOKEN, (_m, name: string, pad?: string) => {
    const v = name === "run" ? String(run) : instrument;
    return pad ? v.padStart(Number(pad), "0") : v;
  });
}

function globRe(segment: string): RegExp {
  const body = segment
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, "[^/]*")
    .replace(/\?/g, "[^/]");
  return new RegExp(`^${body}$`);
}

async function walk(path: string, out: string[]): Promise<void> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return;
  if (s.isFile()) return void out.push(path);
  if (!s.isDirectory()) return;
  for (const name of (await readdir(path)).sort()) await walk(join(path, name), out);
}

/**
 * The files a run's patterns match, under `base` (relative patterns) or absolute; sorted, without duplicates. A
 * pattern matching a directory takes every file under it (e.g. the run's TIFF directory).
 * @example await runFiles(["runs/*_run{run:05}_*.h5", "tiff/*\/run{run:05}_*"], dataDir, 12, "mec")
 */
export async function runFiles(
  patterns: readonly string[],
  base: string,
  run: number,
  instrument: string,
): Promise<string[]> {
  const out: string[] = [];
  for (const p of patterns) {
    const filled = fillRunPattern(p, run, instrument);
    const abs = isAbsolute(filled) ? filled : join(base, filled);
    const segments = abs.split("/").filter(Boolean);
    let level = ["/"];
    for (const seg of segments) {
      const next: string[] = [];
      for (const dir of level) {
        if (!/[*?]/.test(seg)) {
          next.push(join(dir, seg));
          continue;
        }
        const re = globRe(seg);
        const names = await readdir(dir).catch(() => [] as string[]);
        for (const n of names.sort()) if (re.test(n)) next.push(join(dir, n));
      }
      level = next;
    }
    for (const m of level) await walk(m, out);
  }
  return [...new Set(out)].sort();
}

/**
 * True when an HDF5 file is still open for writing (its superblock says so, or it has none yet: being created);
 * false for other files.
 */
export function stillBeingWritten(path: string): boolean {
  if (!path.endsWith(".h5") && !path.endsWith(".hdf5")) return false;
  try {
    return (readSuperblock(path).flags & 0b101) !== 0;
  } catch {
    return true;
  }
}
