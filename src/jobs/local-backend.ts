// Jobs as local processes: spawned from an argv (no shell), in their own process group, output to files.
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { JobBackend, JobRecord, NativeStatus } from "./job-types.js";
import { JOB_FILES } from "./job-script.js";

interface Proc {
  readonly child: ChildProcess;
  status: NativeStatus;
}

/**
 * Runs jobs on this machine: `spawn(argv[0], argv.slice(1))` with the job's directory as working directory,
 * stdout/stderr to files there, in a new process group so that cancelling ends the job and its children only.
 * @example const b = new LocalBackend("var/jobs");
 */
export class LocalBackend implements JobBackend {
  readonly kind = "local";
  readonly root: string;
  private readonly procs = new Map<string, Proc>();
  private readonly seen = new Map<string, string>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  dirOf(id: string, group: string | undefined): string {
    return group ? join(this.root, group, id) : join(this.root, id);
  }

  async start(job: JobRecord): Promise<string> {
    mkdirSync(job.remoteDir, { recursive: true });
    for (const p of job.inputPaths) copyFileSync(p, join(job.remoteDir, basename(p)));
    const out = openSync(join(job.remoteDir, JOB_FILES.stdout), "w");
    const err = openSync(join(job.remoteDir, JOB_FILES.stderr), "w");
    try {
      const [cmd, ...args] = job.spec.argv;
      const child = spawn(cmd!, args, {
        cwd: job.remoteDir,
        env: { ...process.env, ...job.spec.env },
        stdio: ["ignore", out, err],
        detached: true,
      });
      const proc: Proc = { child, status: { state: "running" } };
      const key = `local-${job.id}`;
      this.procs.set(key, proc);
      child.on("error", (e) => {
        proc.status = { state: "failed", reason: `cannot start ${cmd}: ${e.message}` };
      });
      child.on("exit", (code, signal) => {
        if (proc.status.state === "failed") return;
        proc.status =
          code === 0
            ? { state: "completed", exitCode: 0 }
            : code !== null
              ? { state: "failed", exitCode: code, reason: `exit code ${code}` }
              : { state: "failed", reason: `ended by ${signal}` };
      });
      return child.pid !== undefined ? String(child.pid) : key;
    } finally {
      closeSync(out);
      closeSync(err);
    }
  }

  async poll(jobs: readonly JobRecord[]): Promise<Map<string, NativeStatus>> {
    const m = new Map<string, NativeStatus>();
    for (const j of jobs) {
      const p = this.procs.get(`local-${j.id}`);
      if (p && j.nativeId) m.set(j.nativeId, p.status);
    }
    return m;
  }

  async cancel(job: JobRecord): Promise<void> {
    const p = this.procs.get(`local-${job.id}`);
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null || p.child.pid === undefined) return;
    try {
      // The negative pid is the job's own process group (detached), nothing else.
      process.kill(-p.child.pid, "SIGTERM");
    } catch {
      p.child.kill("SIGTERM");
    }
  }

  async sync(job: JobRecord, names: readonly string[]): Promise<string[]> {
    // The job runs in its local directory: a result is "synced" once it exists, again when it changes.
    const now: string[] = [];
    for (const n of names) {
      const p = join(job.localDir, n);
      if (!existsSync(p)) continue;
      const st = statSync(p);
      const sig = `${st.size}:${st.mtimeMs}`;
      if (this.seen.get(p) === sig) continue;
      this.seen.set(p, sig);
      now.push(n);
    }
    return now;
  }

  /** The local tree is the job manager's own directory, which the manager moves itself. */
  async moveGroup(): Promise<undefined> {
    return undefined;
  }

  async close(): Promise<void> {
    this.procs.clear();
  }
}
