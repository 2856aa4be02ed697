// The component contract: a definition (type, params schema, factory) and the hooks the framework calls.
import type { ZodType } from "zod";
import type { Counters, FieldSpec, Logger, RunInfo, StopReport, StreamFactory } from "../core/index.js";
import type { InprocBus } from "../transport/index.js";

/** What every component receives from the runtime. */
export interface ComponentContext {
  /** Component name from the instrument file. */
  readonly name: string;
  readonly instrument: string;
  /** The process's document bus (publish data, subscribe to other components' streams). */
  readonly bus: InprocBus;
  /** Log lines go to the core as log documents. */
  readonly log: Logger;
  /** Counters exported as metrics (`hutch components`, `/metrics`). */
  readonly counters: Counters;
  /** Aborted when the component is shut down. */
  readonly signal: AbortSignal;
  /** Directory for this instrument's run files and state (from the file's `core.dataDir`). */
  readonly dataDir: string;
  /** Directory of the instrument file: relative paths in params (layouts, board files) resolve against it. */
  readonly configDir: string;
  /** The current run, between the start and stop hooks. */
  readonly run: RunInfo | undefined;
  /** A stream of the current run: makes its descriptor and numbered events/pages. Throws outside a run. */
  stream(
    name: string,
    fields: Record<string, FieldSpec>,
    opts?: { configuration?: Record<string, unknown> },
  ): StreamFactory;
  /**
   * Reports a fault found outside a hook (a socket died, the disk is full): the component goes to ERROR,
   * and the core ends or pauses the run with this reason.
   */
  fail(reason: string, cause?: unknown): void;
  /** Raises (or clears, with active=false) an alarm shown to the operator. */
  alarm(id: string, severity: "info" | "warning" | "error", message: string, active?: boolean): void;
  /**
   * Asks run control to pause, stop or abort the current run with a reason (quality rules, watchdogs of an
   * instrument); the reason is recorded in the run-stop document. Does nothing outside a run.
   */
  request(command: "pause" | "stop" | "abort", reason: string): void;
}

/** A named operation an operator can call on a component, with typed params, reporting progress. */
export interface ActionDef<P = unknown, R = unknown> {
  readonly description: string;
  readonly params: ZodType<P>;
  /** Runs the action; `progress` streams intermediate results to the caller. */
  run(params: P, ctx: ComponentContext, progress: (p: unknown) => void): Promise<R> | R;
}

/**
 * Hooks a component implements; the framework owns the state machine, ordering, timeouts and errors.
 * A hook that throws moves the component to ERROR with that reason.
 */
export interface ComponentHooks {
  /** prepare/arm: `config` is this component's params merged with per-run overrides from the operator. */
  configure?(config: Record<string, unknown>, ctx: ComponentContext): Promise<void> | void;
  /** A run begins (run-start already published). Start producing; return once running. */
  start?(run: RunInfo, ctx: ComponentContext): Promise<void> | void;
  pause?(ctx: ComponentContext): Promise<void> | void;
  resume?(ctx: ComponentContext): Promise<void> | void;
  /** The run ends: stop producing and flush; resolve once everything of this run is published/written. */
  stop?(ctx: ComponentContext): Promise<void | StopReport> | void | StopReport;
  /** Leave ERROR: release what the failed run held. */
  reset?(ctx: ComponentContext): Promise<void> | void;
  /** Named operator actions. */
  readonly actions?: Record<string, ActionDef<never>>;
  /** Release sockets, files, timers, workers at shutdown. */
  close?(): Promise<void> | void;
}

/**
 * A component type, registered by name; the instrument file's `type:` picks it and `params:` is validated
 * against `params` before anything starts.
 * @example
 * export const demoSource: ComponentDef<{ rateHz: number }> = {
 *   type: "demo-source", description: "simulated waveforms", params: z.object({ rateHz: z.number().positive() }),
 *   create: (params, ctx) => ({ start: () => {...}, stop: async () => {...} }),
 * };
 */
export interface ComponentDef<P = unknown> {
  readonly type: string;
  readonly description: string;
  /**
   * Where it sits in the data flow; sets hook order. Sinks start first and stop last (they are stopped after
   * the run-stop document is published, so they can finalise files with it); sources start last and stop
   * first. Default `stage`.
   */
  readonly role?: "source" | "stage" | "sink";
  readonly params: ZodType<P>;
  create(params: P, ctx: ComponentContext): ComponentHooks | Promise<ComponentHooks>;
}

/** Helper that keeps a definition's param type. */
export function defineComponent<P>(def: ComponentDef<P>): ComponentDef<P> {
  return def;
}
