// The table of Hutch's jobs: submit, poll, enforce time limits, sync results, cancel only its own ids, move groups.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { ErrorCode, HutchError, nowSec, toHutchError, type Logger } from "../core/index.js";
import { listFiles, moveDirInto, type AreaFile } from "./file-areas.js";
import { JOB_FILES } from "./job-script.js";
import {
  JobSpecSchema,
  isFinal,
  type JobBackend,
  type JobRecord,
  type JobSpecInput,
  type JobState,
  type JobStatus,
  type NativeStatus,
} from "./job-types.js";

/** Options of a job manager. */
export interface JobManagerOptions {
  /** Execution hosts by name. */
  readonly targets: ReadonlyMap<string, JobBackend>;
  readonly defaultTarget: string;
  /** Local root: job directories `<dir>/<group>/<id>` (local results and copies of remote ones). */
  readonly dir: string;
  /** Local area directories by name (e.g. flag, archive), for `move`. */
  readonly areas?: Readonly<Record<string, string>>;
  /** Remote area directories by target and area name. */
  readonly remoteAreas?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** How often running jobs are polled and their results synced (default 2000 ms). */
  readonly pollMs?: number;
  readonly log: Logger;
  /** Every change of a job's state (and newly synced results). */
  readonly onUpdate?: (s: JobStatus) => void;
  /** A job reached a final state; its results are synced. */
  readonly onFinal?: (s: JobStatus, job: JobRecord) => void | Promise<void>;
}

/** What `move` did: the local and remote renames, and the group's files at their new place. */
export interface MoveReport {
  readonly group: string;
  readonly area: string;
  readonly moves: readonly { where: string; from: string; to: string }[];
  readonly files: readonly AreaFile[];
}

interface Entry {
  readonly job: JobRecord;
  readonly target: string;
  status: JobStatus;
  cancelling?: { state: JobState; message: string };
  readonly waiters: ((s: JobStatus) => void)[];
}

/**
 * Owns Hutch's jobs. Polls each target every `pollMs` (one call per target for all its jobs), cancels a job that
 * ran past its time limit (state `timeout`), copies results back as they appear, and calls `onFinal` once per job.
 * Cancelling names one id of this manager; there is no way to cancel anything it did not submit.
 * @example const m = new JobManager({ targets, defaultTarget: "local", dir: "var/jobs", log }); await m.submit(spec);
 */
export class JobManager {
  private readonly jobs = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private closed = false;
  private readonly dir: string;
  /** Poll errors so far (a target unreachable for a while), for the counters. */
  pollErrors = 0;

  constructor(private readonly o: JobManagerOptions) {
    this.dir = resolve(o.dir);
    if (!o.targets.has(o.defaultTarget)) {
      throw new HutchError(ErrorCode.Config, `default target '${o.defaultTarget}' is not among the targets`);
    }
  }

  /** Validates and starts a job; resolves once it was handed to its target (or failed to be). */
  async submit(input: JobSpecInput): Promise<JobStatus> {
    if (this.closed) throw new HutchError(ErrorCode.Closed, "the job manager is closed");
    const spec = JobSpecSchema.parse(input);
    const target = spec.target ?? this.o.defaultTarget;
    const backend = this.o.targets.get(target);
    if (!backend) {
      throw new HutchError(
        ErrorCode.Validation,
        `no job target '${target}' (targets: ${[...this.o.targets.keys()].join(", ")})`,
      );
    }
    const inputPaths = spec.inputs.map((p) => (isAbsolute(p) ? p : join(this.dir, p)));
    for (const p of inputPaths) {
      if (!existsSync(p)) throw new HutchError(ErrorCode.Validation, `job input ${p} does not exist`);
    }
    if (spec.publish && !spec.results.includes(spec.publish.file)) spec.results.push(spec.publish.file);
    const id = `j${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
    const localDir = spec.group ? join(this.dir, spec.group, id) : join(this.dir, id);
    mkdirSync(localDir, { recursive: true });
    const job: JobRecord = { id, spec, localDir, remoteDir: backend.dirOf(id, spec.group), inputPaths };
    const e: Entry = {
      job,
      target,
      waiters: [],
      status: {
        id,
        label: spec.label,
        target,
        ...(spec.group ? { group: spec.group } : {}),
        state: "queued",
        submittedAt: nowSec(),
        results: [],
        expected: spec.results.length,
        localDir,
        remoteDir: job.remoteDir,
      },
    };
    this.jobs.set(id, e);
    this.update(e, {});
    this.record(e);
    try {
      job.nativeId = await backend.start(job);
      const first: JobState = backend.kind === "slurm" ? "pending" : "running";
      this.update(e, {
        state: first,
        nativeId: job.nativeId,
        ...(first === "running" ? { startedAt: nowSec() } : {}),
      });
    } catch (err) {
      await this.finish(e, { state: "failed", reason: `could not start: ${toHutchError(err).message}` });
    }
    this.schedule();
    return e.status;
  }

  /** Cancels one job of this manager; an unknown id is an error, a finished job is left as it is. */
  async cancel(id: string, reason = "cancelled by operator"): Promise<JobStatus> {
    const e = this.jobs.get(id);
    if (!e)
      throw new HutchError(ErrorCode.Validation, `no job '${id}' was submitted here; nothing cancelled`);
    await this.stopJob(e, "cancelled", reason);
    return e.status;
  }

  /** Cancels every unfinished job of this manager (optionally of one group); returns their ids. */
  async cancelAll(reason: string, group?: string): Promise<string[]> {
    const ids: string[] = [];
    for (const e of this.jobs.values()) {
      if (isFinal(e.status.state) || (group !== undefined && e.job.spec.group !== group)) continue;
      ids.push(e.job.id);
      await this.stopJob(e, "cancelled", reason);
    }
    return ids;
  }

  /** Every job, newest last. */
  list(): JobStatus[] {
    return [...this.jobs.values()].map((e) => e.status);
  }

  get(id: string): JobStatus | undefined {
    return this.jobs.get(id)?.status;
  }

  /** Resolves with the job's final status (or its current one after `timeoutMs`). */
  waitFor(id: string, timeoutMs: number): Promise<JobStatus> {
    const e = this.jobs.get(id);
    if (!e) return Promise.reject(new HutchError(ErrorCode.Validation, `no job '${id}'`));
    if (isFinal(e.status.state)) return Promise.resolve(e.status);
    return new Promise((res) => {
      const t = setTimeout(() => res(e.status), timeoutMs);
      e.waiters.push((s) => {
        clearTimeout(t);
        res(s);
      });
    });
  }

  /**
   * Moves a group's directory (local, and on every remote target with this area) into an area, each move one
   * atomic rename. Refuses an unknown area, a group with unfinished jobs, and paths outside the configured dirs;
   * if a later move fails, the earlier ones are renamed back.
   */
  async move(group: string, area: string): Promise<MoveReport> {
    const local = this.o.areas?.[area];
    if (!local) {
      throw new HutchError(
        ErrorCode.Validation,
        `no area '${area}' (areas: ${Object.keys(this.o.areas ?? {}).join(", ") || "none"})`,
      );
    }
    const busy = [...this.jobs.values()].filter(
      (e) => e.job.spec.group === group && !isFinal(e.status.state),
    );
    if (busy.length) {
      throw new HutchError(
        ErrorCode.Transition,
        `group '${group}' has ${busy.length} unfinished job(s) (${busy.map((e) => e.job.id).join(", ")}); cancel them first`,
      );
    }
    mkdirSync(local, { recursive: true });
    const done: { where: string; from: string; to: string; undo: () => Promise<unknown> }[] = [];
    try {
      // Remote hosts first (they fail more often); the local rename last.
      const used = this.targetsOf(group);
      for (const [name, b] of this.o.targets) {
        const remoteArea = this.o.remoteAreas?.[name]?.[area];
        if (!remoteArea || b.kind === "local" || !used.has(name)) continue;
        const r = await b.moveGroup(group, remoteArea);
        if (r) done.push({ where: name, ...r, undo: () => b.moveGroup(group, remoteArea, true) });
      }
      const l = moveDirInto(this.dir, group, local);
      if (l) done.push({ where: "local", ...l, undo: async () => renameSync(l.to, l.from) });
    } catch (err) {
      for (const d of done.reverse()) {
        await d
          .undo()
          .catch((e) =>
            this.o.log.error(`moving ${d.to} back to ${d.from} failed: ${toHutchError(e).message}`),
          );
      }
      throw err;
    }
    if (!done.length) throw new HutchError(ErrorCode.Validation, `group '${group}' has no files anywhere`);
    const to = done.find((d) => d.where === "local")?.to;
    return {
      group,
      area,
      moves: done.map(({ where, from, to: t }) => ({ where, from, to: t })),
      files: to ? listFiles(to) : [],
    };
  }

  /** Keeps the job's status in its local directory (`job.json`): what ran where, also after a restart. */
  private record(e: Entry): void {
    try {
      writeFileSync(
        join(e.job.localDir, JOB_FILES.record),
        JSON.stringify({ ...e.status, argv: e.job.spec.argv }, null, 1),
      );
    } catch (err) {
      this.o.log.warn(`job ${e.job.id}: cannot write its record: ${toHutchError(err).message}`);
    }
  }

  /** Targets a group's jobs ran on: this manager's jobs and the `job.json` records under the group's directory. */
  private targetsOf(group: string): Set<string> {
    const used = new Set<string>();
    for (const e of this.jobs.values()) if (e.job.spec.group === group) used.add(e.target);
    const dir = join(this.dir, group);
    if (existsSync(dir)) {
      for (const d of readdirSync(dir, { withFileTypes: true })) {
        const f = join(dir, d.name, JOB_FILES.record);
        if (!d.isDirectory() || !existsSync(f)) continue;
        try {
          const t = (JSON.parse(readFileSync(f, "utf8")) as { target?: unknown }).target;
          if (typeof t === "string") used.add(t);
        } catch {
          // An unreadable record names no target; the local move still happens.
        }
      }
    }
    return used;
  }

  private update(e: Entry, patch: Partial<JobStatus>): void {
    e.status = { ...e.status, ...patch };
    this.o.onUpdate?.(e.status);
  }

  private async stopJob(e: Entry, state: JobState, message: string): Promise<void> {
    if (isFinal(e.status.state) || e.cancelling) return;
    e.cancelling = { state, message };
    const b = this.o.targets.get(e.target)!;
    try {
      if (e.job.nativeId) await b.cancel(e.job);
    } catch (err) {
      this.o.log.warn(`cancelling job ${e.job.id} on ${e.target} failed: ${toHutchError(err).message}`);
    }
    await this.finish(e, { state, reason: message });
  }

  private async finish(e: Entry, n: NativeStatus): Promise<void> {
    if (isFinal(e.status.state)) return;
    const b = this.o.targets.get(e.target)!;
    const results = await this.syncResults(e, b, true);
    let message = n.reason;
    if (n.state === "failed") {
      const tail = this.outputTail(e);
      if (tail) message = `${message ?? "failed"}: ${tail}`;
    }
    e.status = {
      ...e.status,
      state: n.state,
      endedAt: nowSec(),
      results,
      ...(n.exitCode !== undefined ? { exitCode: n.exitCode } : {}),
      ...(message ? { message } : {}),
    };
    // The result first, then the final state: whoever waits for the state finds the result published.
    try {
      await this.o.onFinal?.(e.status, e.job);
    } catch (err) {
      this.o.log.error(`job ${e.job.id}: publishing its result failed: ${toHutchError(err).message}`);
    }
    this.o.onUpdate?.(e.status);
    this.record(e);
    for (const w of e.waiters.splice(0)) w(e.status);
  }

  private async syncResults(e: Entry, b: JobBackend, final: boolean): Promise<string[]> {
    const names = final ? [...e.job.spec.results, JOB_FILES.stdout, JOB_FILES.stderr] : e.job.spec.results;
    try {
      if (e.job.nativeId) await b.sync(e.job, names);
    } catch (err) {
      this.o.log.warn(
        `job ${e.job.id}: syncing results from ${e.target} failed: ${toHutchError(err).message}`,
      );
    }
    return e.job.spec.results.map((n) => join(e.job.localDir, n)).filter((p) => existsSync(p));
  }

  private outputTail(e: Entry): string {
    const read = (n: string) => {
      const p = join(e.job.localDir, n);
      return existsSync(p) ? readFileSync(p, "utf8") : "";
    };
    return (read(JOB_FILES.stderr) || read(JOB_FILES.stdout)).trim().slice(-500);
  }

  private schedule(): void {
    if (this.closed || this.timer || this.ticking) return;
    const active = [...this.jobs.values()].some((e) => !isFinal(e.status.state));
    if (!active) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        this.schedule();
      });
    }, this.o.pollMs ?? 2000);
  }

  private async tick(): Promise<void> {
    const byTarget = new Map<string, Entry[]>();
    for (const e of this.jobs.values()) {
      if (isFinal(e.status.state) || e.cancelling || !e.job.nativeId) continue;
      const l = byTarget.get(e.target) ?? [];
      l.push(e);
      byTarget.set(e.target, l);
    }
    await Promise.all(
      [...byTarget].map(async ([target, entries]) => {
        const b = this.o.targets.get(target)!;
        let states: Map<string, NativeStatus>;
        try {
          states = await b.poll(entries.map((e) => e.job));
        } catch (err) {
          this.pollErrors++;
          this.o.log.warn(`polling ${target} failed (will retry): ${toHutchError(err).message}`);
          return;
        }
        for (const e of entries) await this.observe(e, b, states.get(e.job.nativeId!));
      }),
    );
  }

  private async observe(e: Entry, b: JobBackend, n: NativeStatus | undefined): Promise<void> {
    if (!n || e.cancelling) return;
    if (n.state === "running" && e.status.state !== "running") {
      this.update(e, { state: "running", startedAt: nowSec() });
    }
    if (isFinal(n.state)) return this.finish(e, n);
    const started = e.status.startedAt;
    if (started !== undefined && (nowSec() - started) * 1000 > e.job.spec.timeLimitMs) {
      const limitS = e.job.spec.timeLimitMs / 1000;
      this.o.log.warn(`job ${e.job.id} (${e.job.spec.label}) ran past its ${limitS} s limit: cancelled`);
      return this.stopJob(e, "timeout", `ran past its time limit of ${limitS} s and was cancelled`);
    }
    if (e.status.state === "running") {
      const before = e.status.results.length;
      const results = await this.syncResults(e, b, false);
      if (results.length !== before) this.update(e, { results });
    }
  }

  /** Stops polling, cancels unfinished jobs (they could no longer be followed) and closes the targets. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.cancelAll("Hutch shut down");
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    for (const b of this.o.targets.values()) await b.close().catch(() => undefined);
  }
}
