// The `beamline-source` component: tags pushed by the beamline (or its simulator) become point and frame streams.
import { z } from "zod";
import { ErrorCode, HutchError, RateLimiter } from "../../core/index.js";
import { defineComponent, type ActionDef, type ComponentContext } from "../../component/index.js";
import { BeamlineSourceParamsSchema, type BeamlineSourceParams } from "./beamline-params.js";
import type { DetectorStatus } from "./detector-health.js";
import type { TagMessage } from "./tag-message.js";
import { TagReceiver } from "./tag-receiver.js";
import { TagPublisher } from "./tag-publisher.js";

/** What the `status` action returns: the truth about the receiving end and every detector. */
export interface BeamlineSourceStatus {
  readonly endpoint: string;
  /** True between the start and stop of a run (and not paused). */
  readonly running: boolean;
  readonly run: number | undefined;
  readonly tags: number;
  readonly missedTags: number;
  readonly lastTag: number | undefined;
  /** Milliseconds since the last tag arrived (undefined before any). */
  readonly lastTagAgeMs: number | undefined;
  readonly detectors: DetectorStatus[];
}

/**
 * Receives one message per tag (ZeroMQ PULL bound at `listen`, in a worker thread that decodes each message and
 * moves it, frames uncopied, to the main thread) and, during runs, publishes the point detectors
 * on `pointStream` (with `<detector>_ok` flags) and each area detector's frame on its own stream (with gain and,
 * by default, the tag, point detectors and delay). A detector left out of the stream or failing mid-run raises
 * an alarm naming it and reads `<detector>_ok = 0`; every other detector goes on. A silent beamline raises an
 * alarm too. Outside runs tags are read and counted (`outside_run`), never published.
 * @example { name: beamline, type: beamline-source, params: { listen: "tcp://127.0.0.1:5580",
 *   detectors: [{ name: mpccd1 }, { name: mpccd2 }], delay: { motor: delay_motor, scale: 6.666e-3, t0Ps: 0 } } }
 */
export const beamlineSourceComponent = defineComponent<BeamlineSourceParams>({
  type: "beamline-source",
  description: "beamline tags (point detectors + area-detector frames) over ZeroMQ, per-detector health",
  role: "source",
  params: BeamlineSourceParamsSchema,
  create: async (initial, ctx) => {
    let p = initial;
    let active: TagPublisher | undefined;
    let paused = false;
    let runNumber: number | undefined;
    let lastArrival: number | undefined;
    let startedAt = 0;
    let silent = false;
    const warn = new RateLimiter(5, 10_000);
    const silenceId = `${ctx.name}:silent`;

    const handle = async (msg: TagMessage): Promise<void> => {
      lastArrival = performance.now();
      if (silent) {
        silent = false;
        ctx.alarm(silenceId, "error", `${ctx.name}: tags arrive again`, false);
      }
      const pub = active;
      if (!pub || paused) {
        ctx.counters.inc(pub ? "paused_tags" : "outside_run");
        return;
      }
      await pub.publish(msg);
    };
    const receiver = await TagReceiver.open(
      { listen: p.listen, receiveHighWaterMark: p.receiveHighWaterMark, inFlight: 8 },
      {
        tag: handle,
        invalid: (message) => {
          ctx.counters.inc("invalid");
          if (warn.take()) ctx.log.warn(`${ctx.name}: tag message rejected: ${message}`);
        },
        failed: (err) => ctx.fail(`${ctx.name}: receiving on ${p.listen} failed`, err),
      },
    );
    const endpoint = receiver.endpoint;

    const silence = setInterval(
      () => {
        if (!active || paused) return;
        const age = performance.now() - (lastArrival ?? startedAt);
        if (!silent && age > p.silenceMs) {
          silent = true;
          const since =
            lastArrival === undefined ? "since the run started" : `for ${(age / 1000).toFixed(1)} s`;
          ctx.alarm(silenceId, "error", `${ctx.name}: no tag from the beamline at ${endpoint} ${since}`);
        }
      },
      Math.max(50, Math.floor(p.silenceMs / 4)),
    );
    silence.unref();

    const status = (): BeamlineSourceStatus => ({
      endpoint,
      running: active !== undefined && !paused,
      run: runNumber,
      tags: active?.tags ?? 0,
      missedTags: active?.missedTags ?? 0,
      lastTag: active?.lastTag,
      lastTagAgeMs: lastArrival === undefined ? undefined : Math.round(performance.now() - lastArrival),
      detectors: active?.health.snapshot() ?? [],
    });
    const statusAction: ActionDef<object, BeamlineSourceStatus> = {
      description:
        "the receiving end and every detector's state (ok, missing, error) with a message naming it",
      params: z.object({}),
      run: () => status(),
    };

    const end = async (c: ComponentContext, reason: string) => {
      const pub = active;
      active = undefined;
      await receiver.idle();
      pub?.clearAlarms(reason);
      if (silent) c.alarm(silenceId, "error", `${c.name}: ${reason}`, false);
      silent = false;
    };

    return {
      configure: (cfg) => {
        const next = BeamlineSourceParamsSchema.parse(cfg);
        if (next.listen !== p.listen || next.receiveHighWaterMark !== p.receiveHighWaterMark) {
          throw new HutchError(
            ErrorCode.Config,
            `${ctx.name}: listen and receiveHighWaterMark are fixed while the process runs (bound to ${endpoint})`,
          );
        }
        p = next;
      },
      start: (run) => {
        runNumber = run.run;
        paused = false;
        lastArrival = undefined;
        startedAt = performance.now();
        active = new TagPublisher(ctx, p);
        ctx.log.info(
          `taking tags on ${endpoint}: detectors ${p.detectors.map((d) => d.name).join(", ") || "none"}`,
        );
      },
      pause: () => {
        paused = true;
      },
      resume: () => {
        paused = false;
      },
      stop: (c) => end(c, "run stopped"),
      reset: (c) => end(c, "reset"),
      actions: { status: statusAction as ActionDef<never> },
      close: async () => {
        clearInterval(silence);
        active = undefined;
        await receiver.close();
      },
    };
  },
});
