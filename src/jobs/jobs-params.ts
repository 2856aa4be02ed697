// Params of the jobs component: local, ssh and slurm targets, the local job directory, file areas, polling.
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import type { Logger } from "../core/index.js";
import { JobManager, type JobManagerOptions } from "./job-manager.js";
import type { JobBackend } from "./job-types.js";
import { LocalBackend } from "./local-backend.js";
import { SlurmBackend, SlurmOptionsSchema } from "./slurm-backend.js";
import { SshBackend } from "./ssh-backend.js";
import { SshOptionsSchema } from "./ssh-connection.js";

const Areas = z
  .record(z.string().regex(/^[a-z][a-z0-9-]*$/, "an area name like flag or archive"), z.string().min(1))
  .default({});

/** One execution host. */
export const JobTargetSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("local") }),
  z.strictObject({
    kind: z.literal("ssh"),
    ssh: SshOptionsSchema,
    /** Remote root of job directories (relative to the login directory unless absolute). */
    dir: z.string().min(1).default("hutch-jobs"),
    /** Remote area directories by name (flag, archive), where `move` puts a group. */
    areas: Areas,
  }),
  z.strictObject({
    kind: z.literal("slurm"),
    ssh: SshOptionsSchema,
    dir: z.string().min(1).default("hutch-jobs"),
    areas: Areas,
    slurm: SlurmOptionsSchema.default({ sbatchArgs: [] }),
  }),
]);
/** One execution host (after defaults). */
export type JobTarget = z.infer<typeof JobTargetSchema>;

/** Params of the jobs component. */
export const JobsParamsSchema = z
  .strictObject({
    /** Local job directories `<dir>/<group>/<id>` (relative to the instrument's dataDir). */
    dir: z.string().min(1).default("jobs"),
    targets: z
      .record(z.string().regex(/^[A-Za-z0-9_-]+$/, "a target name"), JobTargetSchema)
      .default({ local: { kind: "local" } }),
    defaultTarget: z.string().default("local"),
    /** Local area directories by name (relative to dataDir), where `move` puts a group. */
    areas: Areas,
    pollMs: z.number().int().min(50).max(600_000).default(2000),
    /** The stream of job states (the dashboard's jobs panel reads it). */
    stream: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .default("jobs"),
    /** Cancel unfinished jobs when the run ends (their results could no longer join it). */
    cancelAtStop: z.boolean().default(true),
  })
  .superRefine((p, ctx) => {
    if (!(p.defaultTarget in p.targets)) {
      ctx.addIssue({
        code: "custom",
        path: ["defaultTarget"],
        message: `'${p.defaultTarget}' is not one of the targets (${Object.keys(p.targets).join(", ")})`,
      });
    }
  });
/** Params of the jobs component (after defaults). */
export type JobsParams = z.infer<typeof JobsParamsSchema>;

/** Builds the backends of the targets; the local target runs in the local job directory. */
export function makeBackends(p: JobsParams, localDir: string): Map<string, JobBackend> {
  const m = new Map<string, JobBackend>();
  for (const [name, t] of Object.entries(p.targets)) {
    if (t.kind === "local") m.set(name, new LocalBackend(localDir));
    else if (t.kind === "ssh") m.set(name, new SshBackend(t.ssh, t.dir));
    else m.set(name, new SlurmBackend(t.ssh, t.dir, t.slurm));
  }
  return m;
}

/** A job manager for the params, with relative local paths under `dataDir`. */
export function jobManagerFor(
  p: JobsParams,
  dataDir: string,
  log: Logger,
  hooks: Pick<JobManagerOptions, "onUpdate" | "onFinal">,
): JobManager {
  const abs = (d: string) => (isAbsolute(d) ? d : join(dataDir, d));
  const dir = abs(p.dir);
  const remoteAreas: Record<string, Record<string, string>> = {};
  for (const [name, t] of Object.entries(p.targets)) if (t.kind !== "local") remoteAreas[name] = t.areas;
  return new JobManager({
    targets: makeBackends(p, dir),
    defaultTarget: p.defaultTarget,
    dir,
    areas: Object.fromEntries(Object.entries(p.areas).map(([k, v]) => [k, abs(v)])),
    remoteAreas,
    pollMs: p.pollMs,
    log,
    ...hooks,
  });
}
