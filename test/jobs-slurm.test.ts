// Slurm jobs over ssh against a real single-node slurm: sbatch, polling, results, scancel of Hutch's ids only.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeLogger } from "../src/core/index.js";
import { JobManager, SlurmBackend, slurmState, type JobStatus } from "../src/jobs/index.js";
import { startSlurm, type Slurm } from "./helpers/slurm.js";
import { ECHO_ARGV, nastyArgs, startSshd, type Sshd } from "./helpers/sshd.js";

let slurm: Slurm;
let sshd: Sshd;
let dir: string;
let m: JobManager | undefined;
const seen: JobStatus[] = [];

beforeAll(async () => {
  slurm = await startSlurm();
  // Like a cluster's login node: every ssh session finds this cluster's configuration.
  sshd = await startSshd({ setEnv: { SLURM_CONF: slurm.conf } });
});
afterAll(async () => {
  await sshd?.close();
  await slurm?.close();
});
afterEach(async () => {
  await m?.close();
  m = undefined;
  seen.length = 0;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function manager(): JobManager {
  dir = mkdtempSync(join(tmpdir(), "hutch-jobs-slurm-"));
  m = new JobManager({
    targets: new Map([["cluster", new SlurmBackend(sshd.ssh, join(dir, "remote"), { sbatchArgs: [] })]]),
    defaultTarget: "cluster",
    dir: join(dir, "local"),
    pollMs: 150,
    log: makeLogger(() => undefined),
    onUpdate: (s) => seen.push(s),
  });
  return m;
}

/** The state slurm itself reports for a job id. */
async function slurmStateOf(id: string): Promise<string> {
  const q = (await slurm.cmd(["squeue", "-h", "-j", id, "-o", "%T"]).catch(() => "")).trim();
  if (q) return q;
  return /JobState=(\S+)/.exec(await slurm.cmd(["scontrol", "-o", "show", "job", id]))?.[1] ?? "?";
}

describe("slurm over ssh", () => {
  it("sbatch runs the quoted argv; pending/running/completed are followed; results are synced back", async () => {
    const jm = manager();
    const canary = join(dir, "CANARY");
    const args = nastyArgs(canary);
    const s = await jm.submit({
      label: "echo",
      group: "EA0003",
      argv: [...ECHO_ARGV, ...args],
      results: ["argv.json"],
    });
    expect(s.state).toBe("pending");
    expect(s.nativeId).toMatch(/^\d+$/);
    const end = await jm.waitFor(s.id, 20_000);
    expect(end).toMatchObject({ state: "completed", exitCode: 0 });
    expect(JSON.parse(readFileSync(join(end.localDir, "argv.json"), "utf8")).argv).toEqual(args);
    expect(seen.map((x) => x.state)).toContain("completed");
    const job = await slurm.cmd(["scontrol", "-o", "show", "job", s.nativeId!]);
    expect(job).toMatch(new RegExp(`JobName=hutch-${s.id} `));
    expect(await slurmStateOf(s.nativeId!)).toBe("COMPLETED");
  });

  it("a failing batch job is reported with its exit code and stderr", async () => {
    const jm = manager();
    const s = await jm.submit({ label: "bad", argv: ["sh", "-c", "echo 'fit: no events' >&2; exit 5"] });
    const end = await jm.waitFor(s.id, 20_000);
    expect(end).toMatchObject({ state: "failed", exitCode: 5 });
    expect(end.message).toMatch(/fit: no events/);
  });

  it("cancelling cancels Hutch's own job ids only: another job of the same user survives", async () => {
    const jm = manager();
    const foreign = (
      await slurm.cmd([
        "sbatch",
        "--parsable",
        "--job-name=not-hutch",
        "--output=/dev/null",
        "--wrap",
        "sleep 300",
      ])
    ).trim();
    const a = await jm.submit({ label: "a", argv: ["sleep", "300"] });
    const b = await jm.submit({ label: "b", argv: ["sleep", "300"] });
    const cancelled = await jm.cancelAll("operator pressed stop");
    expect(cancelled.sort()).toEqual([a.id, b.id].sort());
    for (const id of [a.nativeId!, b.nativeId!]) {
      const deadline = Date.now() + 10_000;
      while ((await slurmStateOf(id)) !== "CANCELLED" && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(await slurmStateOf(id)).toBe("CANCELLED");
    }
    expect(["PENDING", "RUNNING"]).toContain(await slurmStateOf(foreign));
    await slurm.cmd(["scancel", foreign]);
  });

  it("a job that outlives its time limit is scancelled and reported as timeout", async () => {
    const jm = manager();
    const s = await jm.submit({ label: "long", argv: ["sleep", "300"], timeLimitMs: 1000 });
    const end = await jm.waitFor(s.id, 20_000);
    expect(end.state).toBe("timeout");
    expect(end.message).toMatch(/time limit of 1 s/);
    expect(await slurmStateOf(s.nativeId!)).toMatch(/CANCELLED|COMPLETING/);
  });

  it("slurm states map onto job states", () => {
    expect(slurmState("PENDING")).toBe("pending");
    expect(slurmState("COMPLETING")).toBe("running");
    expect(slurmState("CANCELLED by 0")).toBe("cancelled");
    expect(slurmState("TIMEOUT")).toBe("timeout");
    expect(slurmState("OUT_OF_MEMORY")).toBe("failed");
  });
});
