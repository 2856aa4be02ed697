// Jobs as slurm batch jobs over ssh: sbatch a staged script, poll squeue (then sacct or scontrol), scancel by id.
import { z } from "zod";
import { ErrorCode, HutchError } from "../core/index.js";
import { JOB_FILES } from "./job-script.js";
import type { JobRecord, JobState, NativeStatus } from "./job-types.js";
import { RemoteBackend } from "./remote-backend.js";
import { shellCommand, shellScript } from "../transport/index.js";
import type { SshOptions } from "./ssh-connection.js";

/** Slurm settings of a target. */
export const SlurmOptionsSchema = z.strictObject({
  partition: z.string().optional(),
  account: z.string().optional(),
  /** More sbatch options, each one `--name=value` element (passed as data). */
  sbatchArgs: z.array(z.string().regex(/^--[a-z-]+(=.*)?$/s, "an sbatch option like --mem=2G")).default([]),
});
/** Slurm settings of a target (after defaults). */
export type SlurmOptions = z.infer<typeof SlurmOptionsSchema>;

// squeue knows pending and running jobs; a finished one is in sacct (with accounting) or scontrol (for MinJobAge).
const POLL = [
  'for j in "$@"; do',
  '  s=$(squeue -h -j "$j" -o %T 2>/dev/null)',
  '  if [ -n "$s" ]; then echo "$j Q $s"; continue; fi',
  '  s=$(sacct -n -P -X -j "$j" -o State,ExitCode 2>/dev/null | head -n 1)',
  '  case "$s" in [A-Z]*"|"*) echo "$j A $s"; continue;; esac',
  '  s=$(scontrol -o show job "$j" 2>/dev/null)',
  '  if [ -n "$s" ]; then echo "$j C $s"; continue; fi',
  '  echo "$j U"',
  "done",
].join("\n");

/** A slurm job state as a Hutch job state. */
export function slurmState(s: string): JobState {
  const w = s.trim().split(/[\s|+]/)[0] ?? "";
  switch (w) {
    case "PENDING":
    case "CONFIGURING":
    case "REQUEUED":
    case "REQUEUE_HOLD":
    case "REQUEUE_FED":
    case "RESV_DEL_HOLD":
      return "pending";
    case "RUNNING":
    case "COMPLETING":
    case "SUSPENDED":
    case "STAGE_OUT":
    case "SIGNALING":
    case "RESIZING":
      return "running";
    case "COMPLETED":
      return "completed";
    case "CANCELLED":
      return "cancelled";
    case "TIMEOUT":
    case "DEADLINE":
      return "timeout";
    default:
      return "failed";
  }
}

function parseLine(line: string): [string, NativeStatus] | undefined {
  const m = /^(\d+) ([QACU])\s*(.*)$/.exec(line.trim());
  if (!m) return undefined;
  const [, id, src, rest] = m as unknown as [string, string, string, string];
  if (src === "U") return [id, { state: "failed", reason: `slurm no longer knows job ${id}` }];
  let state = rest;
  let exit: string | undefined;
  if (src === "A") [state, exit] = rest.split("|") as [string, string | undefined];
  if (src === "C") {
    state = /JobState=(\S+)/.exec(rest)?.[1] ?? "UNKNOWN";
    exit = /ExitCode=(\S+)/.exec(rest)?.[1];
  }
  const s = slurmState(state);
  const code = exit ? Number(exit.split(":")[0]) : undefined;
  const reason =
    s === "failed" || s === "timeout" || s === "cancelled" ? `slurm state ${state.trim()}` : undefined;
  return [
    id,
    {
      state: s === "completed" && code !== undefined && code !== 0 ? "failed" : s,
      ...(code !== undefined && Number.isFinite(code) && s !== "pending" && s !== "running"
        ? { exitCode: code }
        : {}),
      ...(reason ? { reason } : {}),
    },
  ];
}

/**
 * Submits each job's staged script with `sbatch --parsable` (job name `hutch-<id>`, output files in the job's
 * directory, `--time` one minute past the Hutch limit as a backstop), polls by job id, and cancels with
 * `scancel <id>` — only ids Hutch submitted, never `scancel -u`.
 * @example new SlurmBackend(ssh, "hutch-jobs", { partition: "short", sbatchArgs: ["--mem=2G"] });
 */
export class SlurmBackend extends RemoteBackend {
  readonly kind = "slurm";

  constructor(
    ssh: SshOptions,
    dir: string,
    private readonly slurm: SlurmOptions,
  ) {
    super(ssh, dir);
  }

  protected async launch(job: JobRecord, dir: string): Promise<string> {
    const minutes = Math.ceil(job.spec.timeLimitMs / 60_000) + 1;
    const argv = [
      "sbatch",
      "--parsable",
      `--job-name=hutch-${job.id}`,
      `--chdir=${dir}`,
      `--output=${dir}/${JOB_FILES.stdout}`,
      `--error=${dir}/${JOB_FILES.stderr}`,
      `--time=${minutes}`,
      ...(this.slurm.partition ? [`--partition=${this.slurm.partition}`] : []),
      ...(this.slurm.account ? [`--account=${this.slurm.account}`] : []),
      ...this.slurm.sbatchArgs,
      `${dir}/${JOB_FILES.script}`,
    ];
    const r = await this.conn.exec(shellCommand(argv));
    const id = /^(\d+)/.exec(r.stdout.trim())?.[1];
    if (r.code !== 0 || !id) {
      throw new HutchError(
        ErrorCode.Io,
        `sbatch on ${this.conn.where} refused job ${job.id}: ${(r.stderr || r.stdout).trim().slice(0, 300)}`,
      );
    }
    return id;
  }

  async poll(jobs: readonly JobRecord[]): Promise<Map<string, NativeStatus>> {
    const m = new Map<string, NativeStatus>();
    const ids = jobs.map((j) => j.nativeId).filter((x): x is string => !!x && /^\d+$/.test(x));
    if (!ids.length) return m;
    const r = await this.conn.exec(shellScript(POLL, "hutch-poll", ids));
    for (const line of r.stdout.split("\n")) {
      const p = parseLine(line);
      if (p) m.set(p[0], p[1]);
    }
    return m;
  }

  async cancel(job: JobRecord): Promise<void> {
    if (!job.nativeId || !/^\d+$/.test(job.nativeId)) return;
    // One id, Hutch's own; a job that already ended makes scancel complain, which changes nothing.
    await this.conn.exec(shellCommand(["scancel", job.nativeId]));
  }
}
