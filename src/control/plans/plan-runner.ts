// Executes a plan's steps against the operator API in the core's process; a failed or aborted plan aborts its run.
import { ErrorCode, HutchError, toHutchError, type FieldSpec, type Logger } from "../../core/index.js";
import type { InprocBus } from "../../transport/index.js";
import type { OperatorApi } from "../api-types.js";
import { resultOf } from "../progress.js";
import { PlanRecorder } from "./plan-recorder.js";
import type { Collected, CollectStep, Plan, PlanStep } from "./plan-steps.js";

/** What a plan runs against. */
export interface PlanEnv {
  /** The operator API of the core (the in-process RunControl, or a `connect()` client). */
  readonly api: Pick<OperatorApi, "command" | "call" | "status">;
  readonly bus: InprocBus;
  /** Publishes one event on a stream of the current run (emit steps). */
  readonly emit: (
    stream: string,
    fields: Record<string, FieldSpec>,
    data: Record<string, unknown>,
  ) => Promise<void>;
  readonly log: Logger;
  /** Aborting it stops the plan after the current step and aborts the run the plan started. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number, message: string) => void;
  readonly onStep?: (step: PlanStep, index: number) => void;
  /** The plan failed or was aborted; called before the run is aborted (last chance to publish in it). */
  readonly onFail?: (status: "failed" | "aborted", message: string) => Promise<void>;
}

/** How a plan ended. */
export interface PlanOutcome<R> {
  readonly status: "done" | "failed" | "aborted";
  readonly result?: R;
  readonly error?: string;
  /** The run the plan started, if any. */
  readonly run?: number;
  readonly steps: number;
}

const CALL_TIMEOUT_MS = 30_000;

async function collectStep(
  s: CollectStep,
  rec: PlanRecorder,
  signal: AbortSignal | undefined,
): Promise<Collected> {
  const end = Date.now() + s.timeoutMs;
  const want = s.keys.map(String);
  for (;;) {
    const got = rec.byKey(s.stream, s.key);
    const missing = want.filter((k) => !(k in got));
    if (!missing.length) return Object.fromEntries(want.map((k) => [k, got[k]!]));
    if (signal?.aborted) throw new HutchError(ErrorCode.Aborted, "plan aborted");
    const left = end - Date.now();
    if (left <= 0) {
      throw new HutchError(
        ErrorCode.Timeout,
        `collect ${s.stream}: ${want.length - missing.length} of ${want.length} ${s.key} values after ${s.timeoutMs} ms (missing ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? ", ..." : ""})`,
      );
    }
    await Promise.race([
      rec.changed(Math.min(left, 1000)),
      new Promise<void>((r) => signal?.addEventListener("abort", () => r(), { once: true })),
    ]);
  }
}

/**
 * Runs a plan: commands and calls through the operator API (each with its timeout), collects from the bus,
 * emits in the run, reports progress. Any failing step ends the plan as `failed`, the signal as `aborted`; either
 * way a run the plan started and did not stop is aborted with the reason, which its run-stop records.
 * @example const out = await runPlan(pmtScanPlan(settings, scan), { api: core, bus, emit, log });
 */
export async function runPlan<R>(plan: Plan<R>, env: PlanEnv): Promise<PlanOutcome<R>> {
  const rec = new PlanRecorder(env.bus, plan.watch);
  const gen = plan.steps();
  let run: number | undefined;
  let runOpen = false;
  let n = 0;
  try {
    let next = gen.next();
    while (!next.done) {
      if (env.signal?.aborted) throw new HutchError(ErrorCode.Aborted, "plan aborted by operator");
      const s = next.value;
      env.onStep?.(s, n++);
      let value: unknown;
      switch (s.kind) {
        case "command": {
          let params = s.params ?? {};
          if (s.command === "prepare") {
            // A plan's prepare adds to the configuration the operator prepared (components' overrides stay).
            const cfg = (await env.api.status()).config;
            const comps = { ...((cfg.components as object) ?? {}), ...((params.components as object) ?? {}) };
            params = { ...cfg, ...params, components: comps };
          }
          value = await resultOf(
            env.api.command(s.command, params, { timeoutMs: s.timeoutMs ?? CALL_TIMEOUT_MS }),
          );
          if (s.command === "start") {
            runOpen = true;
            run = (value as { run?: number } | undefined)?.run;
          } else if (s.command === "stop" || s.command === "abort") runOpen = false;
          break;
        }
        case "call":
          value = await resultOf(
            env.api.call(s.component, s.action, s.params ?? {}, {
              timeoutMs: s.timeoutMs ?? CALL_TIMEOUT_MS,
            }),
          );
          break;
        case "collect":
          value = await collectStep(s, rec, env.signal);
          break;
        case "emit":
          await env.emit(s.stream, s.fields, s.data);
          break;
        case "progress":
          env.onProgress?.(s.done, s.total, s.message);
          break;
        case "log":
          env.log[s.level](s.message);
          break;
      }
      next = gen.next(value);
    }
    return { status: "done", result: next.value, steps: n, ...(run !== undefined ? { run } : {}) };
  } catch (err) {
    const e = toHutchError(err);
    const aborted = e.code === ErrorCode.Aborted;
    gen.return(undefined as R);
    await env.onFail?.(aborted ? "aborted" : "failed", e.message).catch(() => undefined);
    const state = runOpen ? (await env.api.status().catch(() => undefined))?.state : undefined;
    if (state === "RUN" || state === "PAUSED" || state === "READY") {
      const reason = `plan ${plan.name} ${aborted ? "aborted" : `failed: ${e.message}`}`;
      await resultOf(env.api.command("abort", { reason }, { timeoutMs: CALL_TIMEOUT_MS })).catch(
        (x: unknown) =>
          env.log.error(`aborting run ${run} after the plan stopped failed: ${toHutchError(x).message}`),
      );
    }
    return {
      status: aborted ? "aborted" : "failed",
      error: e.message,
      steps: n,
      ...(run !== undefined ? { run } : {}),
    };
  } finally {
    rec.close();
  }
}
