// The `jobs` component: runs jobs on local, ssh or slurm targets; states and results become documents of the run.
import { z } from "zod";
import { ErrorCode, HutchError, nowSec, type FieldSpec, type StreamFactory } from "../core/index.js";
import { defineComponent, type ActionDef, type ComponentContext } from "../component/index.js";
import type { JobManager } from "./job-manager.js";
import { JobSpecSchema, isFinal, type JobRecord, type JobStatus } from "./job-types.js";
import { JobsParamsSchema, jobManagerFor, type JobsParams } from "./jobs-params.js";
import { recordOf } from "./result-record.js";

/** Fields of the jobs stream (what the dashboard's jobs panel reads: id, label, state, done, total). */
export const JOB_FIELDS: Record<string, FieldSpec> = {
  id: { dtype: "string", shape: [] },
  label: { dtype: "string", shape: [] },
  state: {
    dtype: "string",
    shape: [],
    description: "queued, pending, running, completed, failed, cancelled, timeout",
  },
  target: { dtype: "string", shape: [] },
  group: { dtype: "string", shape: [] },
  native: { dtype: "string", shape: [], description: "process id or slurm job id" },
  done: { dtype: "float64", shape: [], description: "result files synced" },
  total: { dtype: "float64", shape: [], description: "result files expected" },
  exit_code: { dtype: "float64", shape: [], description: "NaN until the job ended" },
  message: { dtype: "string", shape: [] },
};

/** Jobs of one run: the jobs stream and the result streams, made lazily. */
class RunStreams {
  private readonly streams = new Map<string, StreamFactory>();
  private chain: Promise<void> = Promise.resolve();
  constructor(private readonly ctx: ComponentContext) {}

  /**
   * Publishes an event on a stream, its descriptor first; a stream keeps the fields it was declared with.
   * Publications go out one after the other, in call order.
   */
  publish(stream: string, fields: Record<string, FieldSpec>, data: Record<string, never>): Promise<void> {
    const next = this.chain.then(async () => {
      let s = this.streams.get(stream);
      if (!s) {
        s = this.ctx.stream(stream, fields);
        this.streams.set(stream, s);
        await this.ctx.bus.publish(s.descriptor);
      }
      await this.ctx.bus.publish(s.event(data, nowSec()));
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Resolves once everything published so far is out. */
  flush(): Promise<void> {
    return this.chain;
  }

  /** The fields a stream was declared with in this run, if it was. */
  fieldsOf(stream: string): Record<string, FieldSpec> | undefined {
    return this.streams.get(stream)?.fields;
  }
}

/** Keeps an action's param type while storing it among the component's actions. */
const action = <P, R>(a: ActionDef<P, R>) => a as unknown as ActionDef<never>;

function jobRow(s: JobStatus): Record<string, never> {
  return {
    id: s.id,
    label: s.label,
    state: s.state,
    target: s.target,
    group: s.group ?? "",
    native: s.nativeId ?? "",
    done: s.results.length,
    total: s.expected,
    exit_code: s.exitCode ?? NaN,
    message: s.message ?? "",
  } as unknown as Record<string, never>;
}

/**
 * Runs jobs — an argv passed as data — locally, on a host over ssh, or as slurm batch jobs over ssh. Each state
 * change is an event on the jobs stream; a finished job's JSON result becomes an event on its `publish` stream.
 * Actions: submit, cancel (one id of this component), cancel-all, list, wait, move (a group to an area).
 * @example { name: jobs, type: jobs, params: { targets: { local: { kind: local } }, areas: { flag: FLAG } } }
 */
export const jobsComponent = defineComponent<JobsParams>({
  type: "jobs",
  description: "jobs on local, ssh or slurm targets: state, output and results as documents",
  role: "stage",
  params: JobsParamsSchema,
  create: (initial, ctx) => {
    let p = initial;
    let streams: RunStreams | undefined;
    const emit = (s: JobStatus) => {
      ctx.counters.set(`jobs_${s.state}`, manager.list().filter((j) => j.state === s.state).length);
      if (!streams) {
        ctx.log.info(
          `job ${s.id} (${s.label}) on ${s.target}: ${s.state}${s.message ? `: ${s.message}` : ""}`,
        );
        return;
      }
      streams.publish(p.stream, JOB_FIELDS, jobRow(s)).catch((e) => ctx.log.error(String(e)));
    };
    const onFinal = async (s: JobStatus, job: JobRecord) => {
      if (s.state !== "completed") ctx.log.warn(`job ${s.id} (${s.label}) ${s.state}: ${s.message ?? ""}`);
      if (s.state === "timeout")
        ctx.alarm(`job-timeout:${s.id}`, "warning", `job ${s.label}: ${s.message ?? "timeout"}`);
      const pub = job.spec.publish;
      if (!pub || !streams) return;
      const file = s.results.find((r) => r.endsWith(`/${pub.file}`));
      const { data, problem } = recordOf(
        pub.fields,
        pub.base,
        s.state === "completed" ? file : undefined,
        `job ${s.state}`,
      );
      if (problem && s.state === "completed") ctx.log.warn(`job ${s.id}: ${problem}`);
      await streams.publish(pub.stream, pub.fields, data as Record<string, never>);
    };
    const build = () =>
      jobManagerFor(p, ctx.dataDir, ctx.log, {
        onUpdate: emit,
        onFinal,
      });
    let manager: JobManager = build();
    return {
      configure: async (config) => {
        const next = JobsParamsSchema.parse(config);
        if (JSON.stringify(next) === JSON.stringify(p)) return;
        const active = manager.list().filter((j) => !isFinal(j.state));
        if (active.length) {
          throw new HutchError(
            ErrorCode.Config,
            `cannot change jobs settings while ${active.length} job(s) run`,
          );
        }
        await manager.close();
        p = next;
        manager = build();
      },
      start: () => {
        streams = new RunStreams(ctx);
      },
      stop: async () => {
        if (p.cancelAtStop) {
          const ids = await manager.cancelAll("the run ended");
          if (ids.length) ctx.log.warn(`run ended: cancelled unfinished job(s) ${ids.join(", ")}`);
        }
        await streams?.flush();
        streams = undefined;
      },
      close: () => manager.close(),
      actions: {
        submit: action({
          description: "run a job: {label, argv, target?, group?, inputs?, results?, timeLimitMs?, publish?}",
          params: JobSpecSchema,
          run: async (spec) => {
            const pub = spec.publish;
            const known = pub && streams?.fieldsOf(pub.stream);
            if (pub && known && JSON.stringify(known) !== JSON.stringify(pub.fields)) {
              throw new HutchError(
                ErrorCode.Validation,
                `stream '${pub.stream}' was declared with other fields in this run`,
              );
            }
            return manager.submit({ ...spec, results: [...spec.results] });
          },
        }),
        cancel: action({
          description: "cancel one job of this component by id",
          params: z.strictObject({ id: z.string().min(1), reason: z.string().optional() }),
          run: (a) => manager.cancel(a.id, a.reason),
        }),
        "cancel-all": action({
          description: "cancel every unfinished job of this component (optionally of one group)",
          params: z.strictObject({
            group: z.string().optional(),
            reason: z.string().default("cancelled by operator"),
          }),
          run: async (a) => ({ cancelled: await manager.cancelAll(a.reason, a.group) }),
        }),
        list: action({
          description: "every job with its state",
          params: z.strictObject({}),
          run: () => manager.list(),
        }),
        wait: action({
          description: "the final state of a job (or its state after timeoutMs)",
          params: z.strictObject({
            id: z.string(),
            timeoutMs: z.number().int().min(0).max(600_000).default(5000),
          }),
          run: (a) => manager.waitFor(a.id, a.timeoutMs),
        }),
        move: action({
          description: "move a group's files (local and remote) to an area such as flag or archive",
          params: z.strictObject({ group: z.string().min(1), area: z.string().min(1) }),
          run: (a) => manager.move(a.group, a.area),
        }),
      },
    };
  },
});
