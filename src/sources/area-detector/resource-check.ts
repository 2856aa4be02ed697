// Free disk and memory checks made before an arm is accepted (PyLAD refused below 5 GB disk / 4 GB memory).
import { readFile, statfs } from "node:fs/promises";
import { freemem } from "node:os";
import { dirname, resolve } from "node:path";

/** Thresholds of the checks (bytes). */
export interface ResourceThresholds {
  /** Refuse when the file system holding `diskPath` has less free space than this (default 5 GB). */
  readonly minFreeDiskBytes: number;
  /** Refuse when less memory than this is available (default 4 GB). */
  readonly minFreeMemoryBytes: number;
  /** A path on the file system the frames go to (the run file directory). */
  readonly diskPath: string;
}

/** Where free space and memory are read from (swappable in tests). */
export interface ResourceProbe {
  freeDiskBytes(path: string): Promise<number>;
  freeMemoryBytes(): Promise<number>;
}

/** Reads statfs (space available to unprivileged users) and /proc/meminfo's MemAvailable (else os.freemem). */
export const systemProbe: ResourceProbe = {
  async freeDiskBytes(path) {
    // The directory may not exist yet: measure its nearest existing ancestor.
    let p = resolve(path);
    for (;;) {
      try {
        const s = await statfs(p);
        return s.bavail * s.bsize;
      } catch (err) {
        const parent = dirname(p);
        if (parent === p) throw err;
        p = parent;
      }
    }
  },
  async freeMemoryBytes() {
    try {
      const m = /^MemAvailable:\s+(\d+) kB$/m.exec(await readFile("/proc/meminfo", "utf8"));
      if (m) return Number(m[1]) * 1024;
    } catch {
      // not Linux: fall through
    }
    return freemem();
  },
};

const gb = (b: number): string => `${(b / 1e9).toFixed(b < 1e9 ? 3 : 1)} GB`;

/**
 * Returns the reasons to refuse an arm (empty when there is room): each names what is short, how much there is,
 * the threshold and the parameter that sets it.
 * @example const problems = await resourceProblems({ minFreeDiskBytes: 5e9, minFreeMemoryBytes: 4e9, diskPath });
 */
export async function resourceProblems(
  t: ResourceThresholds,
  probe: ResourceProbe = systemProbe,
): Promise<string[]> {
  const out: string[] = [];
  const disk = await probe.freeDiskBytes(t.diskPath);
  if (disk < t.minFreeDiskBytes) {
    out.push(
      `only ${gb(disk)} free on the disk of ${t.diskPath}, at least ${gb(t.minFreeDiskBytes)} needed (minFreeDiskBytes)`,
    );
  }
  const mem = await probe.freeMemoryBytes();
  if (mem < t.minFreeMemoryBytes) {
    out.push(
      `only ${gb(mem)} of memory available, at least ${gb(t.minFreeMemoryBytes)} needed (minFreeMemoryBytes)`,
    );
  }
  return out;
}
