// A read-only or full target directory: the writer fails with the path and the OS error, keeps what it wrote, never crashes.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Counters, makeLogger, nd, RunFactory, StreamFactory, type HutchError } from "../src/core/index.js";
import type { ComponentContext } from "../src/component/index.js";
import { InprocBus } from "../src/transport/index.js";
import { Hdf5Writer, hdf5WriterComponent, Hdf5WriterParamsSchema } from "../src/storage/index.js";
import { runPython } from "./helpers/h5py.js";

const root = mkdtempSync(join(tmpdir(), "hutch-storage-errors-"));
const mounted: string[] = [];

/** Mounts a small tmpfs (we run as root in CI); false when this machine does not allow it. */
function tmpfs(name: string, opts: string): string | undefined {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", opts, "tmpfs", dir], { stdio: "ignore" });
    mounted.push(dir);
    return dir;
  } catch {
    return undefined;
  }
}

const canMount = (() => {
  const d = tmpfs("probe", "size=64k");
  if (!d) return false;
  execFileSync("umount", [d]);
  mounted.pop();
  return true;
})();

const CHECK = String.raw`
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
s, v = f["/frames/seq"], f["/frames/data/v"]
rows = min(s.shape[0], v.shape[0])
k = np.arange(1, rows + 1)
assert (s[:rows] == k).all() and (v[:rows] == (k[:, None] % 251).astype("u1")).all()
print(rows)
`;

function fakeContext(bus: InprocBus, dataDir: string) {
  const failures: string[] = [];
  const logs: { level: string; message: string }[] = [];
  let onFail: (() => void) | undefined;
  const ctx: ComponentContext = {
    name: "store",
    instrument: "demo",
    bus,
    log: makeLogger((level, message) => logs.push({ level, message })),
    counters: new Counters(),
    signal: new AbortController().signal,
    dataDir,
    configDir: dataDir,
    run: undefined,
    stream: () => {
      throw new Error("not a source");
    },
    fail: (reason) => {
      failures.push(reason);
      onFail?.();
    },
    alarm: () => undefined,
    request: () => undefined,
  };
  const failed = new Promise<void>((r) => (onFail = r));
  return { ctx, failures, logs, failed };
}

describe.skipIf(!canMount)("storage on a read-only or full file system (tmpfs mounts)", () => {
  let ro: string;
  let full: string;
  beforeAll(() => {
    ro = tmpfs("ro", "ro,size=1m")!;
    full = tmpfs("full", "size=1m")!;
  });
  afterAll(() => {
    for (const d of mounted.reverse()) execFileSync("umount", [d]);
    rmSync(root, { recursive: true, force: true });
  });

  it("read-only directory: the writer reports EROFS with the file path, writes nothing, stays usable", async () => {
    let failure: HutchError | undefined;
    const w = await Hdf5Writer.open({ directory: ro, onFailure: (e) => (failure = e) });
    const run = RunFactory.open({ run: 1, instrument: "demo", plan: "count", config: {} });
    await w.write(run.start);
    await w.drain();
    expect(failure?.code).toBe("HUTCH_ERR_IO");
    expect(failure?.message).toMatch(
      new RegExp(
        `^cannot create run file ${ro}/demo_run00001_\\d{8}_p1\\.h5: .*read-only file system \\(EROFS\\)$`,
        "i",
      ),
    );
    expect(await w.runFinished(run.start.uid)).toEqual([]);
    await w.write(run.stop("success", "x")); // accepted and discarded, no crash
    expect(w.stats.discarded).toBe(0);
    await w.close();
  });

  it("read-only directory: the component refuses to configure, naming the directory and the OS error", async () => {
    const bus = new InprocBus("demo");
    const { ctx } = fakeContext(bus, ro);
    const hooks = await hdf5WriterComponent.create(Hdf5WriterParamsSchema.parse({}), ctx);
    await expect(Promise.resolve(hooks.configure!({}, ctx))).rejects.toThrow(
      `run file directory ${ro} is not writable: read-only file system (EROFS)`,
    );
    await hooks.close!();
    bus.close();
  });

  it("full disk mid-run: the component calls ctx.fail with path and ENOSPC; the file keeps its rows and opens in h5py", async () => {
    const bus = new InprocBus("demo");
    const { ctx, failures, failed, logs } = fakeContext(bus, full);
    const hooks = await hdf5WriterComponent.create(
      Hdf5WriterParamsSchema.parse({ flushIntervalMs: 50, queueCapacity: 4 }),
      ctx,
    );
    await hooks.configure!({}, ctx);
    const run = RunFactory.open({ run: 2, instrument: "demo", plan: "count", config: {} });
    await bus.publish(run.start);
    await hooks.start!(run.info, ctx);
    const s = new StreamFactory(run.info, "frames", { v: { dtype: "uint8", shape: [8192] } });
    await bus.publish(s.descriptor);
    let sent = 0;
    let done = false;
    void failed.then(() => (done = true));
    while (!done && sent < 2000) {
      // A detector's pace (one page per 5 ms), so flushes happen while the disk fills.
      await new Promise((r) => setTimeout(r, 5));
      const n = 4;
      const v = new Uint8Array(n * 8192);
      for (let i = 0; i < n; i++) v.fill((sent + i + 1) % 251, i * 8192, (i + 1) * 8192);
      await bus.publish(
        s.page(
          Float64Array.from({ length: n }, (_, i) => sent + i),
          { v: nd(v, [n, 8192]) },
        ),
      );
      sent += n;
    }
    await failed;
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(
      new RegExp(
        `^cannot write run file ${full}/demo_run00002_\\d{8}_p1\\.h5: No space left on device \\(ENOSPC\\)$`,
      ),
    );
    expect(logs.some((l) => l.level === "error" && l.message === failures[0])).toBe(true);
    // Publishers are not blocked forever after the failure: the component keeps draining (and counts what it discards).
    await bus.publish(run.stop("fail", failures[0]!));
    const report = await hooks.stop!(ctx);
    const files = report && "files" in report ? report.files! : [];
    expect(files).toHaveLength(1);
    expect(ctx.counters.get("failed")).toBe(1);
    const rows = Number((await runPython(CHECK, [files[0]!.path])).trim());
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(sent);
    await hooks.close!();
    bus.close();
  });
});
