// Local jobs: argv passed as data, exit codes and output, time limits, cancelling only own ids, moving groups.
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeLogger, type Event } from "../src/core/index.js";
import {
  JobManager,
  LocalBackend,
  SlurmBackend,
  SshOptionsSchema,
  isFinal,
  jobsComponent,
  type JobBackend,
  type JobStatus,
} from "../src/jobs/index.js";
import { ECHO_ARGV, nastyArgs } from "./helpers/sshd.js";
import { hostStage } from "./helpers/analysis-context.js";

let dir: string;
let m: JobManager | undefined;
const updates: JobStatus[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "hutch-jobs-local-"));
  updates.length = 0;
});
afterEach(async () => {
  await m?.close();
  m = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function manager(areas: Record<string, string> = {}, withCluster = false): JobManager {
  const targets = new Map<string, JobBackend>([["local", new LocalBackend(join(dir, "jobs"))]]);
  // A cluster that is down: a group that never ran there must not need it.
  const ssh = SshOptionsSchema.parse({ host: "127.0.0.1", port: 1, user: "x", identityFile: "/nonexistent" });
  if (withCluster) targets.set("cluster", new SlurmBackend(ssh, "hutch-jobs", { sbatchArgs: [] }));
  m = new JobManager({
    targets,
    defaultTarget: "local",
    dir: join(dir, "jobs"),
    areas,
    ...(withCluster ? { remoteAreas: { cluster: { flag: "hutch-FLAG", archive: "hutch-archive" } } } : {}),
    pollMs: 50,
    log: makeLogger(() => undefined),
    onUpdate: (s) => updates.push(s),
  });
  return m;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("local jobs", () => {
  it("an argv full of shell metacharacters reaches the program unchanged; results and exit code come back", async () => {
    const jm = manager();
    const canary = join(dir, "CANARY");
    const args = nastyArgs(canary);
    const s = await jm.submit({
      label: "echo",
      argv: [...ECHO_ARGV, ...args],
      env: { HUTCH_T: "$(touch x) 'q'" },
      results: ["argv.json"],
    });
    const end = await jm.waitFor(s.id, 10_000);
    expect(end.state).toBe("completed");
    expect(end.exitCode).toBe(0);
    expect(end.results).toEqual([join(end.localDir, "argv.json")]);
    const got = JSON.parse(readFileSync(end.results[0]!, "utf8"));
    expect(got.argv).toEqual(args);
    expect(got.env).toBe("$(touch x) 'q'");
    expect(existsSync(canary)).toBe(false);
    expect(updates.map((u) => u.state)).toEqual(["queued", "running", "completed"]);
  });

  it("a failing job reports its exit code and the tail of its output; a missing program fails to start", async () => {
    const jm = manager();
    const s = await jm.submit({
      label: "fails",
      argv: [process.execPath, "-e", "console.error('bad input: no charges'); process.exit(3)"],
    });
    const end = await jm.waitFor(s.id, 10_000);
    expect(end).toMatchObject({ state: "failed", exitCode: 3 });
    expect(end.message).toMatch(/bad input: no charges/);
    const n = await jm.submit({ label: "nope", argv: [join(dir, "no-such-program")] });
    const e2 = await jm.waitFor(n.id, 10_000);
    expect(e2.state).toBe("failed");
    expect(e2.message).toMatch(/ENOENT|cannot start/);
  });

  it("a job past its time limit is cancelled (its process group ends) and reported as timeout", async () => {
    const jm = manager();
    const s = await jm.submit({
      label: "sleeps",
      argv: ["/bin/sh", "-c", "sleep 30 & sleep 30; wait"],
      timeLimitMs: 300,
    });
    const pid = Number(s.nativeId);
    expect(alive(pid)).toBe(true);
    const end = await jm.waitFor(s.id, 10_000);
    expect(end.state).toBe("timeout");
    expect(end.message).toMatch(/time limit of 0.3 s/);
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(alive(pid)).toBe(false);
  });

  it("cancel takes one of its own ids: other jobs and other processes of the user keep running", async () => {
    const jm = manager();
    const other = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      const a = await jm.submit({ label: "a", argv: ["sleep", "30"] });
      const b = await jm.submit({ label: "b", argv: ["sleep", "30"] });
      await expect(jm.cancel("j-not-mine")).rejects.toThrow(/no job 'j-not-mine' was submitted here/);
      const c = await jm.cancel(a.id, "operator pressed stop");
      expect(c).toMatchObject({ state: "cancelled", message: "operator pressed stop" });
      expect(jm.get(b.id)!.state).toBe("running");
      expect(alive(Number(b.nativeId))).toBe(true);
      expect(alive(other.pid!)).toBe(true);
      expect(await jm.cancelAll("test over")).toEqual([b.id]);
      expect(alive(other.pid!)).toBe(true);
    } finally {
      other.kill();
    }
  });

  it("move puts exactly a group's files into an area, refusing names and links that lead elsewhere", async () => {
    const flag = join(dir, "FLAG");
    const jm = manager({ flag, archive: join(dir, "archive") }, true);
    const g = "EA0001-scan1";
    const s1 = await jm.submit({
      label: "p1",
      group: g,
      argv: ["sh", "-c", "echo 1 > r.txt"],
      results: ["r.txt"],
    });
    const s2 = await jm.submit({
      label: "p2",
      group: "other",
      argv: ["sh", "-c", "echo 2 > r.txt"],
      results: ["r.txt"],
    });
    await jm.waitFor(s1.id, 5000);
    await jm.waitFor(s2.id, 5000);
    writeFileSync(join(dir, "jobs", g, "point-00.npy"), "data");
    const r = await jm.move(g, "flag");
    expect(r.moves).toEqual([{ where: "local", from: join(dir, "jobs", g), to: join(flag, g) }]);
    expect(r.files.map((f) => f.path.slice(join(flag, g).length + 1)).sort()).toEqual(
      [
        "point-00.npy",
        `${s1.id}/job.json`,
        `${s1.id}/r.txt`,
        `${s1.id}/stderr.txt`,
        `${s1.id}/stdout.txt`,
      ].sort(),
    );
    expect(existsSync(join(dir, "jobs", g))).toBe(false);
    expect(existsSync(join(dir, "jobs", "other", s2.id, "r.txt"))).toBe(true);
    await expect(jm.move("../other", "archive")).rejects.toThrow(/not a group name/);
    await expect(jm.move("other", "trash")).rejects.toThrow(/no area 'trash'/);
    mkdirSync(join(dir, "elsewhere"));
    symlinkSync(join(dir, "elsewhere"), join(dir, "jobs", "linked"));
    await expect(jm.move("linked", "archive")).rejects.toThrow(/not a directory of the work area/);
    const busy = await jm.submit({ label: "busy", group: "other", argv: ["sleep", "30"] });
    await expect(jm.move("other", "archive")).rejects.toThrow(/unfinished job/);
    await jm.cancel(busy.id);
    expect(isFinal(jm.get(busy.id)!.state)).toBe(true);
    expect((await jm.move("other", "archive")).moves[0]!.to).toBe(join(dir, "archive", "other"));
  });
});

describe("jobs component", () => {
  it("job states and results become documents of the run; a timed-out job publishes its base and raises an alarm", async () => {
    const h = await hostStage(jobsComponent, { dir: join(dir, "c"), pollMs: 50 });
    const docs: Event[] = [];
    const untap = h.bus.tap("test/", ({ doc }) => doc.kind === "event" && docs.push(doc));
    try {
      await h.configure();
      await h.start();
      const fields = {
        cell: { dtype: "int32", shape: [] },
        status: { dtype: "string", shape: [] },
        gain: { dtype: "float64", shape: [] },
        counts: { dtype: "float64", shape: [3] },
      };
      const ok = (await h.action("submit", {
        label: "point 4",
        argv: [
          "sh",
          "-c",
          `echo '{"cell": 99, "status": "ok", "gain": 1.02e7, "counts": [1, null, 3]}' > r.json`,
        ],
        publish: { stream: "gains", file: "r.json", fields, base: { cell: 4 } },
      })) as JobStatus;
      const slow = (await h.action("submit", {
        label: "point 5",
        argv: ["sleep", "30"],
        timeLimitMs: 200,
        publish: { stream: "gains", file: "r.json", fields, base: { cell: 5 } },
      })) as JobStatus;
      await h.action("wait", { id: ok.id, timeoutMs: 10_000 });
      await h.action("wait", { id: slow.id, timeoutMs: 10_000 });
      await h.stop();
      const gains = docs.filter((d) => d.stream === "gains");
      expect(gains.map((g) => [g.data.cell, g.data.status, g.data.gain])).toEqual([
        [4, "ok", 1.02e7],
        [5, "job timeout", NaN],
      ]);
      expect(Array.from((gains[0]!.data.counts as { data: Float64Array }).data)).toEqual([1, NaN, 3]);
      const rows = docs.filter((d) => d.stream === "jobs" && d.data.id === slow.id).map((d) => d.data.state);
      expect(rows).toEqual(["queued", "running", "timeout"]);
      expect(h.alarms.map((a) => a.id)).toEqual([`job-timeout:${slow.id}`]);
    } finally {
      untap();
      await h.close();
    }
  });
});
