// The files a run wrote, as the run catalog records them: path, size, sha256 and events per stream.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { RunFile } from "../core/index.js";

/** The sha256 of a file (hex), read as a stream (never blocks the event loop for long). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Describes the files of a run for the catalog. Files that do not exist (never created: the directory was
 * read-only) are left out.
 */
export async function describeRunFiles(
  parts: readonly string[],
  counts: ReadonlyMap<string, Readonly<Record<string, number>>>,
  component?: string,
): Promise<RunFile[]> {
  const out: RunFile[] = [];
  for (const path of parts) {
    let bytes: number;
    try {
      bytes = (await stat(path)).size;
    } catch {
      continue;
    }
    out.push({
      path,
      bytes,
      sha256: await sha256File(path),
      ...(component ? { component } : {}),
      counts: { ...(counts.get(path) ?? {}) },
    });
  }
  return out;
}
