// The `transfer` component: after each run stops, copies its files to remote storage (verified, resumable, persistent).
import { randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, isAbsolute, join, relative } from "node:path";
import { z } from "zod";
import { defineComponent, type ComponentContext, type ComponentHooks } from "../../component/index.js";
import {
  ErrorCode,
  HutchError,
  StreamFactory,
  nowSec,
  toHutchError,
  type FieldSpec,
} from "../../core/index.js";
import { sha256File } from "../run-files.js";
import { LocalRemote } from "./local-remote.js";
import type { RemoteStore } from "./remote-store.js";
import { runFiles, stillBeingWritten } from "./run-sources.js";
import { SftpRemote } from "./sftp-remote.js";
import { SshRemote } from "./ssh-remote.js";
import { TransferQueue, type TransferEntry } from "./transfer-queue.js";
import { Transferer } from "./transferer.js";

const SshTarget = z.strictObject({
  kind: z.literal("ssh"),
  client: z
    .enum(["ssh2", "openssh"])
    .default("ssh2")
    .describe("ssh2: the ssh2 package (SFTP); openssh: the ssh binary (multiplexed; supports jump)"),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1),
  identityFile: z.string().min(1).describe("private key without passphrase"),
  knownHostsFile: z.string().optional().describe("default ~/.ssh/known_hosts"),
  strictHostKeyChecking: z.enum(["yes", "accept-new"]).default("yes"),
  jump: z.string().optional().describe("ProxyJump host, e.g. user@relay:22"),
  directory: z.string().regex(/^\//, "an absolute directory on the remote host"),
});
const LocalTarget = z.strictObject({
  kind: z.literal("local"),
  directory: z.string().regex(/^\//, "an absolute directory"),
});

/** Params of the transfer component. */
export const TransferParamsSchema = z.object({
  target: z.discriminatedUnion("kind", [SshTarget, LocalTarget]),
  sources: z
    .array(z.string().min(1))
    .min(1)
    .default(["*_run{run:05}_*.h5"])
    .describe(
      "files of a run, relative to core.dataDir: {run}, {run:05}, {instrument}, * wildcards, directories",
    ),
  group: z.string().optional().describe("group name given to every copied file"),
  mode: z
    .string()
    .regex(/^0?[0-7]{3,4}$/, "octal permission bits like 0640")
    .default("0640"),
  deleteLocal: z.boolean().default(false).describe("delete local files once their remote copy is verified"),
  maxAttempts: z.number().int().min(1).default(8),
  backoffMs: z.number().int().min(1).default(1000),
  maxBackoffMs: z.number().int().min(1).default(60_000),
  maxBytesPerSec: z.number().positive().optional(),
  settleTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(120_000)
    .describe("how long to wait for run files still open for writing"),
  queueFile: z.string().default("transfers/queue.json").describe("relative to core.dataDir"),
  stream: z.string().default("transfers").describe("progress events for the dashboard's jobs panel"),
});
/** Params after defaults. */
export type TransferParams = z.output<typeof TransferParamsSchema>;

const JOB_FIELDS = {
  id: { dtype: "string", shape: [] },
  label: { dtype: "string", shape: [] },
  state: { dtype: "string", shape: [] },
  done: { dtype: "float64", shape: [], units: "bytes" },
  total: { dtype: "float64", shape: [], units: "bytes" },
} as const satisfies Record<string, FieldSpec>;

function remoteFor(p: TransferParams): RemoteStore {
  const t = p.target;
  if (t.kind === "local") return new LocalRemote();
  const knownHostsFile = t.knownHostsFile ?? join(homedir(), ".ssh", "known_hosts");
  if (t.client === "ssh2") {
    if (t.jump) {
      throw new HutchError(ErrorCode.Config, "target.jump needs target.client: openssh (ProxyJump)");
    }
    return new SftpRemote({
      host: t.host,
      port: t.port,
      user: t.user,
      identityFile: t.identityFile,
      knownHostsFile,
    });
  }
  return new SshRemote({
    host: t.host,
    port: t.port,
    user: t.user,
    identityFile: t.identityFile,
    strictHostKeyChecking: t.strictHostKeyChecking,
    knownHostsFile,
    ...(t.jump ? { jump: t.jump } : {}),
  });
}

/** One row of the `status` action. */
export interface TransferStatusRow {
  readonly id: string;
  readonly run: number;
  readonly local: string;
  readonly remote: string;
  readonly bytes: number;
  readonly done: number;
  readonly state: string;
  readonly attempts: number;
  readonly error?: string;
}

/**
 * Copies each finished run's files to remote storage: after the run-stop, once the system has left RUN (every sink,
 * the HDF5 writer included, has stopped) and the run's HDF5 files are closed, it queues the files (with their sha256) in a persistent queue, and copies them one at a time
 * (resumed after a cut, verified by sha256 on the remote side, group and mode set once and checked). Progress goes
 * to counters and to `transfers` events (the dashboard's jobs panel). Actions: `status`, `retry`, `enqueue`.
 * See docs/area-detector.md.
 * @example { name: transfer, type: transfer, params: { target: { kind: ssh, host: s3dfdtn, user: mec, identityFile: ..., directory: /data/mec } } }
 */
export const transferComponent = defineComponent<TransferParams>({
  type: "transfer",
  description: "copies run files to remote storage over SSH: resumable, sha256-verified, persistent queue",
  role: "sink",
  params: TransferParamsSchema as unknown as z.ZodType<TransferParams>,
  create: (params, ctx) => createTransfer(params, ctx),
});

function createTransfer(params: TransferParams, ctx: ComponentContext): ComponentHooks {
  const p = params;
  const under = (x: string) => (isAbsolute(x) ? x : join(ctx.dataDir, x));
  const queue = TransferQueue.load(under(p.queueFile));
  const remote = remoteFor(p);
  const progress = new Map<string, number>();
  const streams = new Map<string, StreamFactory>();
  const publishJob = (e: TransferEntry, done: number) => {
    progress.set(e.id, done);
    if (!e.runUid) return;
    let s = streams.get(e.runUid);
    if (!s) {
      s = new StreamFactory({ uid: e.runUid, run: e.run, instrument: ctx.instrument }, p.stream, JOB_FIELDS, {
        component: ctx.name,
      });
      streams.set(e.runUid, s);
      void ctx.bus.publish(s.descriptor);
    }
    void ctx.bus.publish(
      s.event({ id: e.id, label: basename(e.local), state: e.state, done, total: e.bytes }, nowSec()),
    );
  };
  const transferer = new Transferer({
    queue,
    remote,
    ...(p.group !== undefined ? { group: p.group } : {}),
    mode: parseInt(p.mode, 8),
    deleteLocal: p.deleteLocal,
    maxAttempts: p.maxAttempts,
    backoffMs: p.backoffMs,
    maxBackoffMs: p.maxBackoffMs,
    ...(p.maxBytesPerSec ? { maxBytesPerSec: p.maxBytesPerSec } : {}),
    log: ctx.log,
    counters: ctx.counters,
    onProgress: publishJob,
  });
  const remotePath = (local: string) => {
    const rel = relative(ctx.dataDir, local);
    const inside = rel && !rel.startsWith("..") && !isAbsolute(rel);
    return `${p.target.directory.replace(/\/$/, "")}/${inside ? rel.split("\\").join("/") : basename(local)}`;
  };
  const enqueue = async (paths: readonly string[], run: number, runUid?: string) => {
    const added: TransferEntry[] = [];
    for (const local of paths) {
      const bytes = (await stat(local)).size;
      const e = queue.add({
        id: randomUUID().slice(0, 8),
        run,
        ...(runUid ? { runUid } : {}),
        local,
        remote: remotePath(local),
        bytes,
        sha256: await sha256File(local),
      });
      added.push(e);
      publishJob(e, 0);
    }
    ctx.counters.set("transfers_pending", queue.counts().pending);
    transferer.kick();
    return added;
  };
  /** Once the run is over: wait until its HDF5 files are closed (belt and braces), then queue every file of the run. */
  const onRunStop = async (run: number, runUid: string) => {
    const deadline = Date.now() + p.settleTimeoutMs;
    let files = await runFiles(p.sources, ctx.dataDir, run, ctx.instrument);
    while (files.some(stillBeingWritten) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      files = await runFiles(p.sources, ctx.dataDir, run, ctx.instrument);
    }
    const open = files.filter(stillBeingWritten);
    if (open.length) {
      ctx.counters.inc("files_left_open");
      ctx.log.error(
        `run ${run}: ${open.join(", ")} still open for writing after ${p.settleTimeoutMs} ms: not transferred (hutch recover, then the enqueue action)`,
      );
    }
    const ready = files.filter((f) => !open.includes(f));
    if (!ready.length) return void ctx.log.warn(`run ${run}: no files match ${p.sources.join(", ")}`);
    await enqueue(ready, run, runUid);
    ctx.log.info(
      `run ${run}: ${ready.length} file(s) queued for ${remote.description}:${p.target.directory}`,
    );
  };
  // A run's files are complete once the system has left RUN after its run-stop: run control stops every sink (the
  // HDF5 writer closes its file) before that. Taps see documents in publish order, synchronously.
  const waiting = new Map<string, () => void>();
  const jobs = new Set<Promise<void>>();
  const untapStop = ctx.bus.tap(`${ctx.instrument}/run/run-stop`, ({ doc }) => {
    if (doc.kind !== "run-stop") return;
    const stopped = new Promise<void>((resolve) => {
      waiting.set(doc.runUid, resolve);
      setTimeout(resolve, p.settleTimeoutMs).unref?.();
    });
    const job = stopped
      .then(() => onRunStop(doc.run, doc.runUid))
      .catch((err) => {
        ctx.counters.inc("enqueue_errors");
        ctx.log.error(`run ${doc.run}: queuing its files failed: ${toHutchError(err).message}`);
      })
      .finally(() => {
        waiting.delete(doc.runUid);
        jobs.delete(job);
      });
    jobs.add(job);
  });
  const untapState = ctx.bus.tap(`${ctx.instrument}/system/state`, ({ doc }) => {
    if (doc.kind !== "state" || doc.state === "RUN" || doc.state === "PAUSED") return;
    for (const resolve of waiting.values()) resolve();
  });
  const pending = queue.counts().pending;
  if (pending) ctx.log.info(`${pending} transfer(s) left from before the restart: resuming`);
  transferer.kick();

  const rows = (): TransferStatusRow[] =>
    queue.entries.map((e) => ({
      id: e.id,
      run: e.run,
      local: e.local,
      remote: e.remote,
      bytes: e.bytes,
      done: e.state === "done" ? e.bytes : (progress.get(e.id) ?? 0),
      state: e.state,
      attempts: e.attempts,
      ...(e.error ? { error: e.error } : {}),
    }));

  return {
    actions: {
      status: {
        description: "transfers: counts per state and one row per file (last N)",
        params: z.strictObject({ last: z.number().int().positive().default(50) }),
        run: (a: { last: number }) => ({
          target: `${remote.description}:${p.target.directory}`,
          counts: queue.counts(),
          transfers: rows().slice(-a.last),
        }),
      },
      retry: {
        description: "failed transfers (all, or the given ids) start again",
        params: z.strictObject({ ids: z.array(z.string()).optional() }),
        run: (a: { ids?: string[] }) => {
          const n = queue.retry(a.ids);
          transferer.kick();
          return { retried: n };
        },
      },
      enqueue: {
        description: "queues the files of a past run (by its number) or given paths",
        params: z.strictObject({
          run: z.number().int().nonnegative().optional(),
          paths: z.array(z.string()).optional(),
        }),
        run: async (a: { run?: number; paths?: string[] }) => {
          const paths = [
            ...(a.run !== undefined ? await runFiles(p.sources, ctx.dataDir, a.run, ctx.instrument) : []),
            ...(a.paths ?? []).map(under),
          ];
          const added = await enqueue(paths, a.run ?? -1);
          return { queued: added.map((e) => ({ id: e.id, local: e.local, remote: e.remote })) };
        },
      },
    } as unknown as ComponentHooks["actions"],
    async close() {
      untapStop();
      untapState();
      for (const resolve of waiting.values()) resolve();
      await Promise.all(jobs);
      await transferer.close();
      queue.save();
      await remote.close();
    },
  };
}
