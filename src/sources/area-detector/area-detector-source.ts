// The `area-detector` component: arms a Varex-style area detector from an arm message and takes its triggered frames.
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import { checkArmMessage, type AdFrameMeta, type ArmMessage } from "../../codecs/index.js";
import { defineComponent, type ComponentHooks } from "../../component/index.js";
import { ErrorCode, HutchError, toHutchError } from "../../core/index.js";
import { Acquisition } from "./acquisition.js";
import { BACKGROUND_METHODS } from "./background.js";
import { BackgroundStore } from "./background-store.js";
import { DetectorLink, splitAddress } from "./detector-link.js";
import { resourceProblems } from "./resource-check.js";

/** Params of the area-detector source (instrument file `params:`; the arm message comes per run as `arm`). */
export const AreaDetectorParamsSchema = z.object({
  detector: z
    .string()
    .default("127.0.0.1:5700")
    .refine((s) => /^\[?[^\]]+\]?:\d+$/.test(s), "expected host:port of the detector's frame server")
    .describe("host:port of the detector driver's frame server (or `hutch sim area-detector`)"),
  arm: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("the arm message (MEC fields); given per run by prepare, e.g. from the relay"),
  stream: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .optional()
    .describe("stream prefix: <stream>_frames, _subtracted, _background; default the component name"),
  background: z.enum(BACKGROUND_METHODS).default("mean"),
  backgroundDirectory: z
    .string()
    .default("backgrounds")
    .describe("kept backgrounds, relative to core.dataDir"),
  minFreeDiskBytes: z.number().nonnegative().default(5e9),
  minFreeMemoryBytes: z.number().nonnegative().default(4e9),
  diskPath: z
    .string()
    .optional()
    .describe("where frames are written (disk checked at arm); default core.dataDir"),
  frameBudgetMs: z.number().positive().default(75).describe("warn when handling a frame takes longer"),
  storeSkipFrames: z.boolean().default(false),
  rejectMarkedFreeRun: z
    .boolean()
    .default(true)
    .describe(
      "also reject frames the driver marks as free-running (the trigger watchdog rejects them anyway)",
    ),
  tiff: z
    .strictObject({ enabled: z.boolean().default(false), directory: z.string().default("tiff") })
    .default({ enabled: false, directory: "tiff" }),
  stopWhenComplete: z
    .boolean()
    .default(true)
    .describe("ask run control to stop once every planned frame arrived"),
  subtractPostShot: z
    .boolean()
    .default(false)
    .describe("also store post-shot background frames minus the background"),
  maxQueuedFrames: z.number().int().min(2).default(16),
  connectTimeoutMs: z.number().int().positive().default(5000),
  commandTimeoutMs: z.number().int().positive().default(5000),
  idleMarginMs: z
    .number()
    .int()
    .nonnegative()
    .default(1000)
    .describe("trigger_timeout_s must end this long before the detector's idle (free-run) mode starts"),
});
/** Params after defaults. */
export type AreaDetectorParams = z.output<typeof AreaDetectorParamsSchema>;

interface Prepared {
  readonly arm: ArmMessage;
  readonly width: number;
  readonly height: number;
}

const under = (dataDir: string, p: string): string => (isAbsolute(p) ? p : join(dataDir, p));

/**
 * An area detector (Varex 4343 at MEC): at prepare it validates the arm message (refusing with every reason),
 * checks free disk and memory, and configures gain and binning; in a run it takes one frame per trigger, never one
 * after the trigger watchdog expired (the run is then aborted with "no trigger for N s"), classifies frames by
 * count, subtracts the background and publishes `<name>_frames` (uint16), `<name>_subtracted` (float32) and
 * `<name>_background`. See docs/area-detector.md.
 * @example components: [{ name: det1, type: area-detector, params: { detector: "127.0.0.1:5700" } }]
 */
export const areaDetectorComponent = defineComponent<AreaDetectorParams>({
  type: "area-detector",
  description: "Varex-style area detector: arm message, frame plan, trigger watchdog, background subtraction",
  role: "source",
  params: AreaDetectorParamsSchema as unknown as z.ZodType<AreaDetectorParams>,
  create(params, ctx): ComponentHooks {
    let p = params;
    let prepared: Prepared | undefined;
    let acq: Acquisition | undefined;
    splitAddress(p.detector);
    const onFrame = (meta: AdFrameMeta, pixels: Uint16Array) => {
      ctx.counters.inc("frames_received");
      if (acq) acq.onFrame(meta, pixels);
      else ctx.counters.inc("rejected_not_armed");
    };
    const makeLink = (address: string) =>
      DetectorLink.open({
        address,
        log: ctx.log,
        onFrame,
        onState: (up, why) => {
          ctx.counters.set("link_up", up ? 1 : 0);
          if (up) ctx.log.info(why);
          else if (acq) ctx.fail(`${why} during run ${ctx.run?.run ?? "?"}`);
          else ctx.log.warn(why);
        },
      });
    let link = makeLink(p.detector);

    /** Every check configure makes before changing anything: the arm, disk and memory, the idle delay. */
    const vet = async (q: AreaDetectorParams) => {
      if (!q.arm) {
        throw new HutchError(
          ErrorCode.Config,
          `${ctx.name}: no arm message: prepare with {components: {${ctx.name}: {arm: {...}}}} or send one to the relay`,
        );
      }
      const check = checkArmMessage(q.arm);
      if (!check.ok)
        throw new HutchError(ErrorCode.Config, `arm message refused: ${check.reasons.join("; ")}`);
      const arm = check.arm;
      const problems = await resourceProblems({
        minFreeDiskBytes: q.minFreeDiskBytes,
        minFreeMemoryBytes: q.minFreeMemoryBytes,
        diskPath: q.diskPath ? under(ctx.dataDir, q.diskPath) : ctx.dataDir,
      });
      if (problems.length) {
        throw new HutchError(ErrorCode.Config, `${ctx.name} refuses to arm: ${problems.join("; ")}`);
      }
      const hello = await link.ready(q.connectTimeoutMs);
      if (arm.trigger_timeout_s * 1000 > hello.idleAfterMs - q.idleMarginMs) {
        throw new HutchError(
          ErrorCode.Config,
          `trigger_timeout_s ${arm.trigger_timeout_s} must end at least ${q.idleMarginMs} ms before the detector's idle mode (after ${hello.idleAfterMs / 1000} s without triggers), or idle frames could be taken for triggered ones`,
        );
      }
      return { arm, hello };
    };

    const end = async () => {
      const a = acq;
      if (!a) return;
      const summary = await a.end();
      acq = undefined;
      ctx.log.info(
        `acquisition ended: ${summary.accepted}/${summary.expected} frame(s)${summary.complete ? "" : ` (missing ${summary.missing})`}`,
      );
      if (link.hello) await link.command({ t: "disarm" }, p.commandTimeoutMs).catch(() => undefined);
    };

    return {
      async configure(config) {
        const next = AreaDetectorParamsSchema.parse(config);
        if (next.detector !== p.detector) {
          await link.close();
          link = makeLink(next.detector);
        }
        p = next;
        prepared = undefined;
        const { arm, hello } = await vet(p);
        const r = await link.command(
          { t: "configure", gain: arm.gain, binning: arm.binning },
          p.commandTimeoutMs,
        );
        const width = typeof r.width === "number" ? r.width : hello.width;
        const height = typeof r.height === "number" ? r.height : hello.height;
        prepared = { arm, width, height };
        ctx.counters.set("width", width);
        ctx.counters.set("height", height);
        ctx.log.info(
          `armed for ${arm.experiment}/${arm.run_name}: ${arm.num_skip_frames} skip, ${arm.num_background_frames} background, ${arm.num_data_frames} data, ${arm.num_post_background_frames} post-shot frame(s), gain ${arm.gain}, binning ${arm.binning}, ${width} x ${height}`,
        );
      },
      async start(run) {
        if (!prepared)
          throw new HutchError(ErrorCode.Transition, `${ctx.name}: start without an accepted arm message`);
        const { arm, width, height } = prepared;
        const tiffBase =
          arm.save_files_path ?? (p.tiff.enabled ? under(ctx.dataDir, p.tiff.directory) : undefined);
        acq = await Acquisition.open({
          arm,
          run,
          ctx,
          streamPrefix: p.stream ?? ctx.name,
          width,
          height,
          background: p.background,
          store: new BackgroundStore(under(ctx.dataDir, p.backgroundDirectory)),
          frameBudgetMs: p.frameBudgetMs,
          storeSkipFrames: p.storeSkipFrames,
          rejectMarkedFreeRun: p.rejectMarkedFreeRun,
          tiffDir: tiffBase
            ? join(
                tiffBase,
                arm.experiment,
                `run${String(run.run).padStart(5, "0")}_${arm.run_name}`,
                ctx.name,
              )
            : undefined,
          stopWhenComplete: p.stopWhenComplete,
          subtractPostShot: p.subtractPostShot,
          maxQueuedFrames: p.maxQueuedFrames,
          pauseInput: () => link.pause(),
          resumeInput: () => link.resume(),
        });
        try {
          await link.command({ t: "arm" }, p.commandTimeoutMs);
          acq.begin();
        } catch (err) {
          await end();
          throw toHutchError(err);
        }
      },
      async stop() {
        await end();
      },
      async reset() {
        await end();
        prepared = undefined;
      },
      async close() {
        await end().catch(() => undefined);
        await link.close();
      },
      actions: {
        "check-arm": {
          description: "checks an arm message (fields, free disk and memory, idle delay) without arming",
          params: z.object({ arm: z.record(z.string(), z.unknown()) }),
          async run(params: { arm: Record<string, unknown> }) {
            const { arm } = await vet({ ...p, arm: params.arm });
            return { ok: true, experiment: arm.experiment, run_name: arm.run_name };
          },
        },
      } as unknown as ComponentHooks["actions"],
    };
  },
});
