// Transfer queue and copier with the local backend: restart mid-copy, corruption, retries, deleting local files.
import { createHash, randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { Counters, makeLogger } from "../src/core/index.js";
import { LocalRemote, TransferQueue, Transferer, runFiles, type RemoteStore } from "../src/storage/index.js";

const logs: string[] = [];
const log = makeLogger((level, m) => logs.push(`${level} ${m}`));

function setup(bytes = 4 * 1024 * 1024) {
  const dir = mkdtempSync(join(tmpdir(), "hutch-xfer-"));
  const local = join(dir, "local", "run00007.h5");
  const data = randomBytes(bytes);
  mkdirp(join(dir, "local"));
  writeFileSync(local, data);
  const sha = createHash("sha256").update(data).digest("hex");
  const remote = join(dir, "remote", "exp", "run00007.h5");
  return { dir, local, data, sha, remote, queueFile: join(dir, "queue.json") };
}
function mkdirp(d: string) {
  mkdirSync(d, { recursive: true });
}

const opts = (queue: TransferQueue, remote: RemoteStore, counters: Counters, extra: object = {}) => ({
  queue,
  remote,
  mode: 0o640,
  deleteLocal: false,
  maxAttempts: 3,
  backoffMs: 10,
  maxBackoffMs: 40,
  log,
  counters,
  ...extra,
});

describe("transfer queue and copier (local backend)", () => {
  it("survives a restart mid-copy: the queue file brings the entry back and the copy resumes", async () => {
    const s = setup();
    const q1 = TransferQueue.load(s.queueFile);
    q1.add({ id: "a", run: 7, local: s.local, remote: s.remote, bytes: s.data.length, sha256: s.sha });
    const c1 = new Counters();
    let stopped!: () => void;
    const half = new Promise<void>((r) => (stopped = r));
    const t1 = new Transferer(
      opts(q1, new LocalRemote(), c1, {
        maxBytesPerSec: 8 * 1024 * 1024,
        onProgress: (_e: unknown, done: number) => done > 1024 * 1024 && stopped(),
      }),
    );
    t1.kick();
    await half;
    await t1.close(); // the process stops in the middle of the copy
    expect(existsSync(s.remote)).toBe(false);
    const partBytes = statSync(`${s.remote}.part`).size;
    expect(partBytes).toBeGreaterThan(0);
    const q2 = TransferQueue.load(s.queueFile); // a new process
    expect(q2.entries[0]!.state).toBe("pending");
    const c2 = new Counters();
    const t2 = new Transferer(opts(q2, new LocalRemote(), c2));
    t2.kick();
    await t2.settled();
    await t2.close();
    expect(q2.entries[0]).toMatchObject({ state: "done", resumedFromBytes: partBytes });
    expect(c2.get("bytes_sent")).toBe(s.data.length - partBytes);
    expect(createHash("sha256").update(readFileSync(s.remote)).digest("hex")).toBe(s.sha);
    expect(statSync(s.remote).mode & 0o777).toBe(0o640);
  });

  it("a corrupted partial copy fails verification, is discarded and copied again", async () => {
    const s = setup(256 * 1024);
    mkdirp(join(s.dir, "remote", "exp"));
    writeFileSync(`${s.remote}.part`, randomBytes(1000)); // garbage from an earlier, broken copy
    const q = TransferQueue.load(s.queueFile);
    const e = q.add({
      id: "b",
      run: 7,
      local: s.local,
      remote: s.remote,
      bytes: s.data.length,
      sha256: s.sha,
    });
    const c = new Counters();
    const t = new Transferer(opts(q, new LocalRemote(), c));
    t.kick();
    await t.settled();
    await t.close();
    expect(c.get("verify_failures")).toBe(1);
    expect(e).toMatchObject({ state: "done", attempts: 2 });
    expect(readFileSync(s.remote).equals(s.data)).toBe(true);
    expect(logs.some((l) => l.includes("checksum mismatch: remote sha256"))).toBe(true);
  });

  it("gives up after maxAttempts with the reason, retries on demand, deletes the local file only once verified", async () => {
    const s = setup(64 * 1024);
    const q = TransferQueue.load(s.queueFile);
    const e = q.add({
      id: "c",
      run: 7,
      local: s.local,
      remote: s.remote,
      bytes: s.data.length,
      sha256: s.sha,
    });
    let broken = true;
    const inner = new LocalRemote();
    const flaky: RemoteStore = {
      description: "flaky",
      probe: (a, b) => inner.probe(a, b),
      append: async (p, d: Readable, sig) => {
        if (broken) {
          d.destroy();
          throw new Error("network unreachable");
        }
        return inner.append(p, d, sig);
      },
      seal: (a, b, w) => inner.seal(a, b, w),
      remove: (p) => inner.remove(p),
      close: async () => undefined,
    };
    const c = new Counters();
    const t = new Transferer(opts(q, flaky, c, { deleteLocal: true }));
    t.kick();
    await t.settled();
    expect(e).toMatchObject({ state: "failed", attempts: 3, error: "network unreachable" });
    expect(existsSync(s.local)).toBe(true); // never deleted without a verified copy
    broken = false;
    expect(q.retry()).toBe(1);
    t.kick();
    await t.settled();
    await t.close();
    expect(e).toMatchObject({ state: "done", attempts: 1, localDeleted: true });
    expect(existsSync(s.local)).toBe(false);
    expect(readFileSync(s.remote).equals(s.data)).toBe(true);
    expect(TransferQueue.load(s.queueFile).counts()).toEqual({ pending: 0, active: 0, done: 1, failed: 0 });
  });

  it("refuses to send a local file that changed since it was queued", async () => {
    const s = setup(1000);
    const q = TransferQueue.load(s.queueFile);
    const e = q.add({ id: "d", run: 7, local: s.local, remote: s.remote, bytes: 1000, sha256: s.sha });
    truncateSync(s.local, 10);
    const t = new Transferer(opts(q, new LocalRemote(), new Counters(), { maxAttempts: 1 }));
    t.kick();
    await t.settled();
    await t.close();
    expect(e.state).toBe("failed");
    expect(e.error).toMatch(/changed: 10 bytes, 1000 when queued/);
  });

  it("finds a run's files by pattern, walking matched directories", async () => {
    const d = mkdtempSync(join(tmpdir(), "hutch-src-"));
    for (const f of [
      "runs/mec_run00012_20260101_p1.h5",
      "runs/mec_run00012_20260101_p2.h5",
      "runs/mec_run00013_x_p1.h5",
      "tiff/exp/run00012_r7/det1/data_00004.tif",
      "tiff/exp/run00012_r7/det2/data_00004.tif",
      "tiff/exp/run00013_r8/det1/a.tif",
    ]) {
      mkdirp(join(d, f, ".."));
      writeFileSync(join(d, f), "x");
    }
    const got = await runFiles(["runs/{instrument}_run{run:05}_*.h5", "tiff/*/run{run:05}_*"], d, 12, "mec");
    expect(got.map((f) => f.slice(d.length + 1))).toEqual([
      "runs/mec_run00012_20260101_p1.h5",
      "runs/mec_run00012_20260101_p2.h5",
      "tiff/exp/run00012_r7/det1/data_00004.tif",
      "tiff/exp/run00012_r7/det2/data_00004.tif",
    ]);
  });
});
