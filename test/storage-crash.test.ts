// kill -9 of a writing process: the file opens (SWMR reader), loses at most the flush interval, and recovers for any reader.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readRunFile, recoverRunFile } from "../src/storage/index.js";
import { h5dump, hexOf, runPython } from "./helpers/h5py.js";

const FLUSH_MS = 500;
const FIXTURE = fileURLToPath(new URL("./fixtures/storage-crash-writer.mjs", import.meta.url));

const SWMR_CHECK = String.raw`
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r", swmr=True)
seq, v, n = f["/frames/seq"], f["/frames/data/v"], f["/frames/data/n"]
rows = min(seq.shape[0], v.shape[0], n.shape[0])
k = np.arange(1, rows + 1)
assert (seq[:rows] == k).all() and (n[:rows] == k).all(), "seq/n"
assert (v[:rows] == (k[:, None] * 4 + np.arange(4)[None, :] + 0.5)).all(), "v"
print(rows)
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "hutch-storage-crash-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("after kill -9 at most the flush interval is lost, h5py opens the file, and recoverRunFile makes it plain-readable", async () => {
  if (!existsSync(fileURLToPath(new URL("../dist/storage/index.js", import.meta.url)))) {
    throw new Error(
      "dist/ is missing: run `npm run build` before the tests (the child process runs compiled code)",
    );
  }
  const child = spawn(process.execPath, [FIXTURE, dir, String(FLUSH_MS)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  let sent = 0;
  let first = 0;
  let last = 0;
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(
      () => reject(new Error(`writer made no progress: sent ${sent}; ${err}`)),
      20_000,
    );
    child.stdout.on("data", (b: Buffer) => {
      for (const m of b.toString().matchAll(/sent (\d+)/g)) {
        sent = Number(m[1]);
        last = Date.now();
        first ||= last;
        // Kill mid-run, well past the first flushes, at an arbitrary point between two flushes.
        if (last - first >= 2 * FLUSH_MS + 337) {
          clearTimeout(deadline);
          resolve();
        }
      }
    });
    child.on("exit", (code) => reject(new Error(`writer exited early (${code}): ${err}`)));
  });
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  const ratePerS = (sent / Math.max(1, last - first)) * 1000;

  const files = readdirSync(dir).filter((f) => f.endsWith(".h5"));
  expect(files).toHaveLength(1);
  const path = join(dir, files[0]!);

  // As the crash left it: an SWMR reader opens it and every row is right; a plain open is refused (open-for-write flag).
  const rows = Number((await runPython(SWMR_CHECK, [path])).trim());
  await expect(runPython("import sys, h5py; h5py.File(sys.argv[1], 'r')", [path])).rejects.toThrow(
    /open for write/,
  );
  expect(rows).toBeGreaterThan(0);
  expect(rows).toBeLessThanOrEqual(sent + 10);
  const lost = sent - rows;
  expect(lost, `lost ${lost} rows at ${ratePerS.toFixed(0)} rows/s`).toBeLessThanOrEqual(
    Math.ceil((ratePerS * FLUSH_MS) / 1000),
  );

  const report = await recoverRunFile(path);
  expect(report.flagsFound).toBe(5); // open for write + SWMR write
  expect(report.rows).toEqual({ frames: rows });
  const h = await h5dump(path); // plain open now works
  expect(h.attrs.exit_status!.value).toBe("fail");
  expect(h.attrs.reason!.value).toMatch(/recovered/);
  expect(h.attrs.recovered).toEqual({ dtype: "|u1", shape: [], value: 1 });
  expect(JSON.parse(h.attrs.counts!.value as string)).toEqual({ frames: rows });
  expect(h.datasets["/frames/data/n"]!.hex).toBe(hexOf(Uint32Array.from({ length: rows }, (_, i) => i + 1)));
  const v = Float64Array.from({ length: rows * 4 }, (_, i) => (Math.floor(i / 4) + 1) * 4 + (i % 4) + 0.5);
  expect(h.datasets["/frames/data/v"]!.hex).toBe(hexOf(v));
  // Recovered files replay like any other (run-stop included).
  let replayed = 0;
  let stop = false;
  for await (const doc of readRunFile(path)) {
    if (doc.kind === "event-page") replayed += doc.n;
    if (doc.kind === "run-stop") stop = doc.exitStatus === "fail";
  }
  expect(replayed).toBe(rows);
  expect(stop).toBe(true);
  // A second recovery finds nothing to do.
  expect((await recoverRunFile(path)).flagsFound).toBe(0);
});
