// The `hdf5-writer` component: subscribes losslessly to the instrument's documents and writes each run to HDF5.
import { access, constants, mkdir } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import type { HutchError } from "../core/index.js";
import { RateLimiter, type RunFile, type RunInfo, type StopReport } from "../core/index.js";
import { defineComponent, type ComponentContext, type ComponentHooks } from "../component/index.js";
import type { Subscription } from "../transport/index.js";
import { DEFAULT_FILE_PATTERN, validateFilePattern } from "./file-pattern.js";
import { Hdf5Writer } from "./hdf5-writer.js";
import { HDF5_WRITER_DEFAULTS, type Hdf5WriterOptions } from "./hdf5-writer-options.js";
import { layoutFactory } from "./layout-registry.js";
import { StorageFailure, osFailureOf } from "./storage-failure.js";

const Level = z.number().int().min(0).max(9);

/** Params of the `hdf5-writer` component (instrument file `params:`; per-run overrides merge over them). */
export const Hdf5WriterParamsSchema = z
  .object({
    directory: z
      .string()
      .min(1)
      .optional()
      .describe("run file directory; relative to core.dataDir; default dataDir"),
    pattern: z.string().default(DEFAULT_FILE_PATTERN).describe("{instrument} {run} {date} {time} {part}"),
    rotateBytes: z.number().int().nonnegative().default(HDF5_WRITER_DEFAULTS.rotateBytes),
    flushIntervalMs: z.number().int().min(20).default(HDF5_WRITER_DEFAULTS.flushIntervalMs),
    gzip: z
      .union([Level, z.record(z.string(), Level)])
      .default(0)
      .describe("level for all streams or per stream"),
    streams: z.array(z.string()).optional().describe("streams to write; default all"),
    layouts: z.array(z.string()).min(1).default(["generic"]),
    chunkBytes: z.number().int().positive().default(HDF5_WRITER_DEFAULTS.chunkBytes),
    batchBytes: z.number().int().positive().default(HDF5_WRITER_DEFAULTS.batchBytes),
    maxInFlight: z.number().int().positive().default(HDF5_WRITER_DEFAULTS.maxInFlight),
    queueCapacity: z.number().int().positive().default(256).describe("documents held before publishers wait"),
    stopTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe("wait for the run-stop and file close"),
  })
  .strict();

/** Params after defaults. */
export type Hdf5WriterParams = z.output<typeof Hdf5WriterParamsSchema>;

/** Back-pressure is logged at most once per this period. */
const BACKPRESSURE_LOG_MS = 10_000;

/**
 * Writes every run to HDF5 (see docs/files.md). A sink: it starts first and stops last, after the run-stop is
 * published; its stop hook resolves once the run-stop is written and the files closed, and reports them (path,
 * size, sha256, events per stream) for the run catalog. Its input never drops: publishers wait when it is
 * behind (metric `input_blocked`, log line); a full or read-only disk makes it fail with the path and OS error.
 */
export const hdf5WriterComponent = defineComponent<Hdf5WriterParams>({
  type: "hdf5-writer",
  description: "writes runs to HDF5 files (generic layout + instrument layouts), lossless, SWMR-readable",
  role: "sink",
  params: Hdf5WriterParamsSchema,
  create: (params, ctx) => createHooks(params, ctx),
});

function writerOptions(
  p: Hdf5WriterParams,
  ctx: ComponentContext,
  onFailure: (e: HutchError) => void,
): Hdf5WriterOptions {
  const dir =
    p.directory === undefined
      ? ctx.dataDir
      : isAbsolute(p.directory)
        ? p.directory
        : join(ctx.dataDir, p.directory);
  return { ...p, directory: dir, component: ctx.name, onFailure };
}

async function checkDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (err) {
    const os = osFailureOf(err);
    throw new StorageFailure(
      undefined,
      "open",
      err,
      os,
      `run file directory ${dir} is not writable: ${os ? `${os.message}${os.code ? ` (${os.code})` : ""}` : String(err)}`,
    );
  }
}

async function createHooks(initial: Hdf5WriterParams, ctx: ComponentContext): Promise<ComponentHooks> {
  let params = initial;
  const onFailure = (err: HutchError) => {
    ctx.counters.set("failed", 1);
    ctx.log.error(err.message, {
      detail: err instanceof StorageFailure ? err.detail.split("\n").slice(-6).join("\n") : undefined,
    });
    ctx.fail(err.message, err);
  };
  let opts = writerOptions(params, ctx, onFailure);
  let writer: Hdf5Writer | undefined;
  let sub: Subscription | undefined;
  let loop: Promise<void> | undefined;
  let run: RunInfo | undefined;
  let lastBlocked = 0;
  const limiter = new RateLimiter(1, BACKPRESSURE_LOG_MS);

  const consume = async (s: Subscription, w: Hdf5Writer) => {
    for await (const { doc } of s) await w.write(doc);
  };
  const metrics = () => {
    if (!sub || !writer) return;
    ctx.counters.absorb("input_", sub.stats);
    ctx.counters.absorb("", writer.stats);
    ctx.counters.set("worker_batches_pending", writer.pending);
    const blocked = sub.stats.blocked;
    ctx.counters.set("backpressure", blocked > lastBlocked ? 1 : 0);
    if (blocked > lastBlocked && limiter.take()) {
      ctx.log.warn(
        `storage is slower than the data: publishers waited ${blocked - lastBlocked} time(s) since the last report (input queue ${sub.stats.depth}/${params.queueCapacity}); nothing is dropped`,
        { blocked, depth: sub.stats.depth },
      );
    }
    lastBlocked = blocked;
  };
  const timer = setInterval(metrics, 1000);
  timer.unref();

  const ensureRunning = async () => {
    if (!writer) {
      writer = await Hdf5Writer.open(opts);
      ctx.log.info(`run files go to ${opts.directory}, written with ${writer.backend}`);
    }
    if (!sub) {
      sub = ctx.bus.subscribe({
        prefix: `${ctx.instrument}/`,
        overflow: "block",
        capacity: params.queueCapacity,
        name: `${ctx.name}:input`,
      });
      loop = consume(sub, writer);
    }
  };

  return {
    async configure(config) {
      const next = Hdf5WriterParamsSchema.parse({ ...params, ...config });
      validateFilePattern(next.pattern);
      for (const l of next.layouts) layoutFactory(l);
      const nextOpts = writerOptions(next, ctx, onFailure);
      await checkDirectory(nextOpts.directory);
      if (
        writer &&
        JSON.stringify({ ...nextOpts, onFailure: 0 }) !== JSON.stringify({ ...opts, onFailure: 0 })
      ) {
        // New options apply from the next run: replace the idle writer (its worker starts in ~0.3 s).
        sub?.close();
        await loop;
        await writer.close();
        writer = undefined;
        sub = undefined;
      }
      params = next;
      opts = nextOpts;
      await ensureRunning();
    },
    async start(info) {
      await ensureRunning();
      run = info;
    },
    async stop(): Promise<StopReport> {
      const w = writer;
      const r = run;
      run = undefined;
      if (!w || !r) return {};
      let files: RunFile[];
      try {
        files = await w.runFinished(r.uid, params.stopTimeoutMs);
      } catch (err) {
        ctx.log.warn(
          `no run-stop for run ${r.run} within ${params.stopTimeoutMs} ms: closing its file as failed`,
          { err: String(err) },
        );
        files = (await w.endRun(`no run-stop document within ${params.stopTimeoutMs} ms`, r.uid)) ?? [];
      }
      metrics();
      return { files };
    },
    reset() {
      writer?.reset();
      run = undefined;
      ctx.counters.set("failed", 0);
    },
    async close() {
      clearInterval(timer);
      sub?.close();
      await loop;
      await writer?.close();
    },
  };
}
