// Jobs as processes on a remote host over ssh: detached in their own session, polled and cancelled by process id.
import { ErrorCode, HutchError } from "../core/index.js";
import { EXIT_NO_DIR, JOB_FILES } from "./job-script.js";
import type { JobRecord, NativeStatus } from "./job-types.js";
import { RemoteBackend } from "./remote-backend.js";
import { shellScript } from "../transport/index.js";

// Each script is Hutch's constant text; directories and pids arrive as positional arguments.
const START = `cd "$1" || exit ${EXIT_NO_DIR}; setsid sh ./${JOB_FILES.script} > ${JOB_FILES.stdout} 2> ${JOB_FILES.stderr} < /dev/null & echo $!`;
const POLL = [
  'for x in "$@"; do pid=${x%%:*}; d=${x#*:}',
  `  if [ -f "$d/${JOB_FILES.exitCode}" ]; then echo "$pid exit $(cat "$d/${JOB_FILES.exitCode}")"; continue; fi`,
  '  st=$(ps -o stat= -p "$pid" 2>/dev/null)',
  '  case "$st" in ""|Z*) echo "$pid gone";; *) echo "$pid running";; esac',
  "done",
].join("\n");
const CANCEL = 'kill -TERM "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null; exit 0';

/**
 * Runs a job's script on a remote host with `setsid` (so it survives the ssh session and forms its own process
 * group), polls it by pid and `exit-code`, and cancels exactly that process group.
 * @example new SshBackend({ host: "daq2", user: "hk", identityFile: "~/.ssh/id_ed25519", ... }, "hutch-jobs");
 */
export class SshBackend extends RemoteBackend {
  readonly kind = "ssh";

  protected async launch(job: JobRecord, dir: string): Promise<string> {
    const out = (await this.conn.exec(shellScript(START, "hutch-start", [dir]))).stdout.trim();
    if (!/^\d+$/.test(out)) {
      throw new HutchError(
        ErrorCode.Io,
        `ssh ${this.conn.where}: job ${job.id} did not start (got '${out.slice(0, 200)}')`,
      );
    }
    return out;
  }

  async poll(jobs: readonly JobRecord[]): Promise<Map<string, NativeStatus>> {
    const m = new Map<string, NativeStatus>();
    const started = jobs.filter((j) => j.nativeId);
    if (!started.length) return m;
    const args: string[] = [];
    for (const j of started) args.push(`${j.nativeId}:${await this.absDir(j)}`);
    const r = await this.conn.exec(shellScript(POLL, "hutch-poll", args));
    for (const line of r.stdout.split("\n")) {
      const [pid, what, code] = line.trim().split(/\s+/);
      if (!pid || !what) continue;
      if (what === "running") m.set(pid, { state: "running" });
      else if (what === "exit") {
        const c = Number(code);
        m.set(
          pid,
          c === 0
            ? { state: "completed", exitCode: 0 }
            : { state: "failed", exitCode: c, reason: `exit code ${c}` },
        );
      } else m.set(pid, { state: "failed", reason: "the process ended without an exit code (killed)" });
    }
    return m;
  }

  async cancel(job: JobRecord): Promise<void> {
    if (!job.nativeId || !/^\d+$/.test(job.nativeId)) return;
    await this.conn.exec(shellScript(CANCEL, "hutch-cancel", [job.nativeId]));
  }
}
