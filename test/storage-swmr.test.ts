// h5py reads a run file WHILE it is written (SWMR) and sees it grow; after a clean stop the file is complete and closed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { nd, RunFactory, StreamFactory } from "../src/core/index.js";
import { formatFileName, Hdf5Writer, readSuperblock } from "../src/storage/index.js";
import { h5dump, hexOf, spawnPython } from "./helpers/h5py.js";

const READER = String.raw`
import sys, time, json, h5py, numpy as np
path = sys.argv[1]
deadline = time.time() + 20
def open_():
    while True:
        try:
            f = h5py.File(path, "r", swmr=True)
            f["/frames/data/v"]
            return f
        except Exception as e:
            if time.time() > deadline: raise
            time.sleep(0.05)
f = open_()
seen = []
while len(set(x for x in seen if x > 0)) < 4:
    if time.time() > deadline: raise SystemExit("timeout: saw %s" % seen)
    s, d = f["/frames/seq"], f["/frames/data/v"]
    s.refresh(); d.refresh()
    n = min(s.shape[0], d.shape[0])
    if n:
        seq = s[:n]; v = d[:n]
        assert (seq == np.arange(1, n + 1)).all(), "seq"
        assert (v[:, 0] == seq * 3).all() and (v[:, 1] == -seq).all(), "values"
    seen.append(int(n))
    print(json.dumps({"n": int(n)}), flush=True)
    time.sleep(0.05)
f.close()
print(json.dumps({"done": seen}), flush=True)
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "hutch-storage-swmr-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("h5py (swmr=True) sees a growing number of rows while the run is written, then the closed file is complete", async () => {
  const w = await Hdf5Writer.open({ directory: dir, flushIntervalMs: 100 });
  const run = RunFactory.open({ run: 1, instrument: "demo", plan: "count", config: {} });
  const s = new StreamFactory(run.info, "frames", { v: { dtype: "int64", shape: [2] } });
  const path = join(
    dir,
    formatFileName("{instrument}_run{run:05}_{date}_p{part}.h5", {
      ...run.info,
      time: run.start.time,
      part: 1,
    }),
  );
  await w.write(run.start);
  await w.write(s.descriptor);
  let sent = 0;
  const page = async () => {
    const n = 5;
    const v = new BigInt64Array(2 * n);
    for (let i = 0; i < n; i++) {
      v[2 * i] = BigInt((sent + i + 1) * 3);
      v[2 * i + 1] = BigInt(-(sent + i + 1));
    }
    const p = s.page(
      Float64Array.from({ length: n }, (_, i) => 1e9 + sent + i),
      { v: nd(v, [n, 2]) },
    );
    sent += n;
    run.count(p);
    await w.write(p);
  };
  await page();
  const py = spawnPython(READER, [path]);
  const lines: { n?: number; done?: number[] }[] = [];
  let err = "";
  py.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  py.stdout!.on("data", (b: Buffer) => {
    for (const l of b.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(l) as { n?: number });
  });
  const producer = setInterval(() => void page(), 30);
  const code = await new Promise<number | null>((resolve) => py.on("close", resolve));
  clearInterval(producer);
  expect(err, err).toBe("");
  expect(code).toBe(0);
  const counts = lines.filter((l) => l.n !== undefined && l.n > 0).map((l) => l.n!);
  expect(new Set(counts).size).toBeGreaterThanOrEqual(4);
  for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThanOrEqual(counts[i - 1]!);
  expect(readSuperblock(path).flags).not.toBe(0); // still open for (SWMR) write

  await w.write(run.stop("success", "done"));
  const [file] = await w.runFinished(run.start.uid);
  await w.close();
  expect(file!.path).toBe(path);
  expect(readSuperblock(path).flags).toBe(0); // closed cleanly: any reader opens it
  const h = await h5dump(path); // a plain (non-SWMR) open
  expect(h.attrs.exit_status!.value).toBe("success");
  expect(h.datasets["/frames/seq"]!.shape).toEqual([sent]);
  const v = new BigInt64Array(2 * sent);
  for (let i = 0; i < sent; i++) {
    v[2 * i] = BigInt((i + 1) * 3);
    v[2 * i + 1] = BigInt(-(i + 1));
  }
  expect(h.datasets["/frames/data/v"]!.hex).toBe(hexOf(v));
});
