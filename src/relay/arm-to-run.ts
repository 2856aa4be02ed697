// Accepting an arm message: run control's prepare with the arm as the detectors' configuration, then start.
import type { ArmMessage } from "../codecs/index.js";
import { ErrorCode, HutchError } from "../core/index.js";

/** One step of an operator call (the shape of control's Progress, declared here so relay/ needs no control/). */
export type OperatorStep =
  | { readonly type: "progress"; readonly message: string; readonly data?: unknown }
  | { readonly type: "result"; readonly data?: unknown }
  | { readonly type: "error"; readonly code: string; readonly message: string };

/** The part of the operator API an arm needs; `connect()` clients and the in-process core both fit. */
export interface ArmOperator {
  command(
    command: "prepare" | "start" | "reset",
    params?: Record<string, unknown>,
    opts?: { timeoutMs?: number },
  ): AsyncIterable<OperatorStep>;
  call(
    component: string,
    action: string,
    params?: unknown,
    opts?: { timeoutMs?: number },
  ): AsyncIterable<OperatorStep>;
  runs(opts?: { timeoutMs?: number }): Promise<
    readonly {
      readonly run: number;
      readonly stopTime?: number;
      readonly exitStatus?: string;
      readonly reason?: string;
      readonly files: readonly { readonly path: string }[];
    }[]
  >;
  status(opts?: { timeoutMs?: number }): Promise<{
    readonly state: string;
    readonly reason?: string;
    readonly run?: { readonly number: number };
  }>;
}

/** The answer to an arm: accepted (with the run it started) or refused with the reason. */
export type ArmOutcome =
  | { readonly ok: true; readonly run: number; readonly notes?: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/** How an arm becomes a run. */
export interface ArmToRunOptions {
  /** Component names of the detectors the arm configures (each gets `{arm}` as its per-run override). */
  readonly detectors: readonly string[];
  /** The instrument file's `run:` section, merged under the arm (plan, other components' overrides). */
  readonly base?: Record<string, unknown>;
  /** Time each operator call may take (default 20 s). */
  readonly timeoutMs?: number;
}

async function outcome(steps: AsyncIterable<OperatorStep>): Promise<unknown> {
  for await (const s of steps) {
    if (s.type === "result") return s.data;
    if (s.type === "error") throw new HutchError(s.code as ErrorCode, s.message);
  }
  throw new HutchError(ErrorCode.Internal, "operator call ended without a result");
}

/**
 * Has every detector vet the arm (its `check-arm` action: fields, free disk and memory, idle delay), then prepares
 * the run with the arm as every detector's configuration (so the run-start records it) and starts it. Refuses
 * while a run is acquiring, or with the first detector's reason. If a prepare is refused all the same and leaves
 * the system in ERROR, it is reset so the next arm can be accepted.
 * @example const r = await armToRun(connect("tcp://det-pc:5551"), arm, { detectors: ["det1", "det2"] });
 */
export async function armToRun(api: ArmOperator, arm: ArmMessage, o: ArmToRunOptions): Promise<ArmOutcome> {
  const timeoutMs = o.timeoutMs ?? 20_000;
  const notes: string[] = [];
  try {
    const st = await api.status({ timeoutMs });
    if (st.state === "RUN" || st.state === "PAUSED") {
      return { ok: false, reason: `busy: run ${st.run?.number ?? "?"} is acquiring (state ${st.state})` };
    }
    if (st.state === "ERROR") {
      notes.push(`the system was in ERROR (${st.reason ?? "no reason"}) and was reset before arming`);
      await outcome(api.command("reset", {}, { timeoutMs }));
    }
    // Every detector vets the arm first (fields, disk, memory, idle delay): a refusal changes no state.
    await Promise.all(o.detectors.map((d) => outcome(api.call(d, "check-arm", { arm }, { timeoutMs }))));
    const baseComponents = (o.base?.components ?? {}) as Record<string, Record<string, unknown>>;
    const components: Record<string, Record<string, unknown>> = { ...baseComponents };
    for (const d of o.detectors) components[d] = { ...(baseComponents[d] ?? {}), arm };
    const config = { plan: "area-detector", ...(o.base ?? {}), arm, components };
    try {
      await outcome(api.command("prepare", config, { timeoutMs }));
    } catch (err) {
      const after = await api.status({ timeoutMs }).catch(() => undefined);
      if (after?.state === "ERROR")
        await outcome(api.command("reset", {}, { timeoutMs })).catch(() => undefined);
      throw err;
    }
    const started = (await outcome(api.command("start", {}, { timeoutMs }))) as { run?: number } | undefined;
    return { ok: true, run: started?.run ?? -1, ...(notes.length ? { notes } : {}) };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

/** How a run ended, as the catalog records it. */
export interface RunEnd {
  readonly run: number;
  readonly exitStatus: string;
  readonly reason: string;
  readonly files: readonly string[];
}

/**
 * Waits until the catalog says `run` ended (polling every `pollMs`), or `signal` aborts (then resolves undefined).
 * @example const end = await runEnded(api, 12, { signal }); agent.notify(end);
 */
export async function runEnded(
  api: Pick<ArmOperator, "runs">,
  run: number,
  o: { pollMs?: number; signal?: AbortSignal } = {},
): Promise<RunEnd | undefined> {
  while (!o.signal?.aborted) {
    const entry = (await api.runs({ timeoutMs: 5000 }).catch(() => [])).find((r) => r.run === run);
    if (entry?.stopTime !== undefined) {
      return {
        run,
        exitStatus: entry.exitStatus ?? "fail",
        reason: entry.reason ?? "",
        files: entry.files.map((f) => f.path),
      };
    }
    await new Promise<void>((r) => {
      const t = setTimeout(r, o.pollMs ?? 500);
      o.signal?.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
    });
  }
  return undefined;
}
