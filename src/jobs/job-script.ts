// The shell script a remote or batch job runs: its argv quoted element by element, the exit code kept in a file.
import { shellCommand, shellQuote } from "../transport/index.js";
import type { JobRecord } from "./job-types.js";

/** File names a job's directory holds besides its inputs and results. */
export const JOB_FILES = {
  script: "job.sh",
  stdout: "stdout.txt",
  stderr: "stderr.txt",
  exitCode: "exit-code",
  /** The job's status as Hutch knows it, in its local directory. */
  record: "job.json",
} as const;

/** Exit code of the script when it cannot enter its directory. */
export const EXIT_NO_DIR = 97;

/**
 * A POSIX sh script that enters the job's directory, exports the job's environment, runs its argv (every element
 * single-quoted, so `$`, backquotes, `;`, quotes and newlines reach the program unchanged) and writes the exit
 * code to `exit-code` (atomically) before exiting with it.
 * @example writeFile("job.sh", jobScript(job, "/scratch/hutch/j1"));
 */
export function jobScript(job: JobRecord, dir: string): string {
  const env = Object.entries(job.spec.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  return [
    "#!/bin/sh",
    `# Hutch job ${job.id}: written by Hutch; every argument is quoted, nothing in it is interpreted.`,
    `cd ${shellQuote(dir)} || exit ${EXIT_NO_DIR}`,
    ...env,
    shellCommand(job.spec.argv),
    "code=$?",
    `echo "$code" > ${JOB_FILES.exitCode}.tmp && mv ${JOB_FILES.exitCode}.tmp ${JOB_FILES.exitCode}`,
    'exit "$code"',
    "",
  ].join("\n");
}
