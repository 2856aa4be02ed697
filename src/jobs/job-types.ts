// What a job is: an argv (data, never a shell string), its inputs, result files, time limit, and its states.
import { z } from "zod";
import { FieldSpecSchema, ScalarSchema } from "../core/index.js";

/** States of a job; the last four are final. */
export const JOB_STATES = [
  "queued",
  "pending",
  "running",
  "completed",
  "failed",
  "cancelled",
  "timeout",
] as const;
/** A job's state. */
export type JobState = (typeof JOB_STATES)[number];

/** True for completed, failed, cancelled and timeout. */
export function isFinal(s: JobState): boolean {
  return s === "completed" || s === "failed" || s === "cancelled" || s === "timeout";
}

/** A name that is one safe path segment: letters, digits, '_', '.', '-', not starting with '.' or '-'. */
export const SafeNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/,
    "letters, digits, '_', '.', '-' only, not starting with '.' or '-' (one path segment)",
  );

/** How a finished job's result file becomes an event: a JSON object whose keys are the fields. */
export const PublishSchema = z.strictObject({
  stream: z.string().regex(/^[A-Za-z0-9_.-]+$/, "a stream name"),
  /** A JSON file in the job's directory (one of `results`, added if missing). */
  file: SafeNameSchema,
  /** Fields of the stream (its descriptor); `null` or missing numbers become NaN, missing arrays NaN-filled. */
  fields: z.record(z.string(), FieldSpecSchema),
  /** Values that take precedence over the file's (e.g. the scan cell); published alone, with `status`, if the job fails. */
  base: z.record(z.string(), ScalarSchema).default({}),
});
/** How a result file becomes an event. */
export type PublishSpec = z.infer<typeof PublishSchema>;

/** A job to run. */
export const JobSpecSchema = z.strictObject({
  label: z.string().min(1).max(300),
  /** Program and arguments, passed as data: each element reaches the program unchanged. */
  argv: z.array(z.string()).min(1, "argv needs at least the program"),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name"), z.string())
    .default({}),
  /** Target name (default: the component's default target). */
  target: z.string().optional(),
  /** Jobs of a group share a directory (`<dir>/<group>/<id>`), moved together to an area (flag, archive). */
  group: SafeNameSchema.optional(),
  /** Local files (relative to the component's dir) copied into the job's directory under their base names. */
  inputs: z.array(z.string().min(1)).default([]),
  /** Files the job writes in its directory; synced back as they appear. */
  results: z.array(SafeNameSchema).default([]),
  /** The job is cancelled and reported `timeout` once it has run this long. */
  timeLimitMs: z.number().int().min(100).default(3_600_000),
  publish: PublishSchema.optional(),
});
/** A job to run (input form: defaults optional). */
export type JobSpecInput = z.input<typeof JobSpecSchema>;
/** A job to run (after defaults). */
export type JobSpec = z.infer<typeof JobSpecSchema>;

/** A job as the operator sees it. */
export interface JobStatus {
  /** Hutch's id of the job (also the slurm job name `hutch-<id>`). */
  readonly id: string;
  readonly label: string;
  readonly target: string;
  readonly group?: string;
  readonly state: JobState;
  /** The id on the execution host: a process id, or the slurm job id. */
  readonly nativeId?: string;
  readonly exitCode?: number;
  /** Why it failed, was cancelled or timed out; the output's tail when it failed. */
  readonly message?: string;
  /** Unix seconds. */
  readonly submittedAt: number;
  readonly startedAt?: number;
  readonly endedAt?: number;
  /** Local paths of result files synced so far, of `expected` result files. */
  readonly results: readonly string[];
  readonly expected: number;
  /** The job's directory here (local results) and on the execution host. */
  readonly localDir: string;
  readonly remoteDir: string;
}

/** A state reported by an execution host. */
export interface NativeStatus {
  readonly state: JobState;
  readonly exitCode?: number;
  readonly reason?: string;
}

/** What a backend knows of a job: its spec, id, directories and native id once started. */
export interface JobRecord {
  readonly id: string;
  readonly spec: JobSpec;
  readonly localDir: string;
  readonly remoteDir: string;
  /** Absolute local paths of the inputs. */
  readonly inputPaths: readonly string[];
  nativeId?: string;
}

/**
 * An execution host: local processes, processes over ssh, or slurm batch jobs over ssh. The job manager owns
 * the table of jobs, polling, time limits and documents; a backend only starts, observes, cancels and copies.
 */
export interface JobBackend {
  readonly kind: "local" | "ssh" | "slurm";
  /** The directory of a job on the execution host. */
  dirOf(id: string, group: string | undefined): string;
  /** Creates the job's directory, stages its inputs and starts it; returns the native id. */
  start(job: JobRecord): Promise<string>;
  /** States of started jobs by native id; a job the host no longer knows is absent. */
  poll(jobs: readonly JobRecord[]): Promise<Map<string, NativeStatus>>;
  /** Cancels this one job (its native id only; never anything else of the user). */
  cancel(job: JobRecord): Promise<void>;
  /** Copies result files that appeared or changed into the local directory; returns the names copied now. */
  sync(job: JobRecord, names: readonly string[]): Promise<string[]>;
  /**
   * Moves a group's directory into `areaDir` on the execution host (one atomic rename), or with `back` from the
   * area to where it was; undefined when the group has no directory there.
   */
  moveGroup(
    group: string,
    areaDir: string,
    back?: boolean,
  ): Promise<{ from: string; to: string } | undefined>;
  close(): Promise<void>;
}
