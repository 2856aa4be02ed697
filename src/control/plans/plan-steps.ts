// Plans as generators of small typed steps (after Bluesky): the runner executes them, a dry run only lists them.
import type { Command, FieldSpec, LogLevel } from "../../core/index.js";

/** A run-control command (prepare merges `params` into the current run configuration). */
export interface CommandStep {
  readonly kind: "command";
  readonly command: Extract<Command, "prepare" | "start" | "stop" | "abort">;
  readonly params?: Record<string, unknown>;
  readonly timeoutMs?: number;
}
/** A component's action; the step's value is the action's result. */
export interface CallStep {
  readonly kind: "call";
  readonly component: string;
  readonly action: string;
  readonly params?: unknown;
  readonly timeoutMs?: number;
}
/**
 * Waits until the current run's `stream` has an event for every key (field `key` equal to one of `keys`); the
 * value is the newest event data per key. Events count from the plan's start (nothing is missed in between).
 */
export interface CollectStep {
  readonly kind: "collect";
  readonly stream: string;
  readonly key: string;
  readonly keys: readonly (number | string)[];
  readonly timeoutMs: number;
}
/** Publishes one event on a stream of the current run (the plan's own results, e.g. the HV check). */
export interface EmitStep {
  readonly kind: "emit";
  readonly stream: string;
  readonly fields: Record<string, FieldSpec>;
  readonly data: Record<string, unknown>;
}
/** How far the plan got (shown as a row of the jobs panel). */
export interface ProgressStep {
  readonly kind: "progress";
  readonly done: number;
  readonly total: number;
  readonly message: string;
}
/** A line in the instrument's log. */
export interface LogStep {
  readonly kind: "log";
  readonly level: LogLevel;
  readonly message: string;
}

/** Every kind of step. */
export type PlanStep = CommandStep | CallStep | CollectStep | EmitStep | ProgressStep | LogStep;

/** Event data by key, as a collect step returns it. */
export type Collected = Record<string, Record<string, unknown>>;

/** A plan: a name for the run, the streams its collect steps read, and the generator of its steps. */
export interface Plan<R = unknown> {
  readonly name: string;
  readonly label: string;
  /** Streams the plan collects from: recorded from the plan's start. */
  readonly watch: readonly string[];
  steps(): Generator<PlanStep, R, unknown>;
}

/** `const r = yield* command("start")`: a command step and its result. */
export function* command(
  c: CommandStep["command"],
  params?: Record<string, unknown>,
  timeoutMs?: number,
): Generator<PlanStep, unknown, unknown> {
  return yield {
    kind: "command",
    command: c,
    ...(params ? { params } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
  };
}

/** `const r = yield* call<T>("daq", "acquire", {...})`: an action step and its (typed) result. */
export function* call<T = unknown>(
  component: string,
  action: string,
  params?: unknown,
  timeoutMs?: number,
): Generator<PlanStep, T, unknown> {
  return (yield {
    kind: "call",
    component,
    action,
    ...(params === undefined ? {} : { params }),
    ...(timeoutMs ? { timeoutMs } : {}),
  }) as T;
}

/** `const byKey = yield* collect("pmt-gain", "cell", [0, 1, 2], 3600_000)`. */
export function* collect(
  stream: string,
  key: string,
  keys: readonly (number | string)[],
  timeoutMs: number,
): Generator<PlanStep, Collected, unknown> {
  return ((yield { kind: "collect", stream, key, keys, timeoutMs }) ?? {}) as Collected;
}

/** A progress step. */
export function* progress(done: number, total: number, message: string): Generator<PlanStep, void, unknown> {
  yield { kind: "progress", done, total, message };
}

/** A log step. */
export function* log(level: LogLevel, message: string): Generator<PlanStep, void, unknown> {
  yield { kind: "log", level, message };
}

/** An emit step. */
export function* emit(
  stream: string,
  fields: Record<string, FieldSpec>,
  data: Record<string, unknown>,
): Generator<PlanStep, void, unknown> {
  yield { kind: "emit", stream, fields, data };
}

/** What a dry run shows: every step in order and the plan's return value on dry results. */
export interface DryRun<R> {
  readonly plan: string;
  readonly steps: PlanStep[];
  readonly result: R;
}

/**
 * Lists a plan's steps without doing anything: commands and calls answer `{dryRun: true}`, collects answer every
 * key with empty data. A plan must cope with those answers (e.g. skip a fit that has no gains).
 * @example dryRun(pmtScanPlan(settings, scan)).steps.filter((s) => s.kind === "call").length; // 42
 */
export function dryRun<R>(plan: Plan<R>): DryRun<R> {
  const steps: PlanStep[] = [];
  const gen = plan.steps();
  let next = gen.next();
  while (!next.done) {
    const s = next.value;
    steps.push(s);
    let answer: unknown;
    if (s.kind === "command" || s.kind === "call") answer = { dryRun: true };
    else if (s.kind === "collect") answer = Object.fromEntries(s.keys.map((k) => [String(k), {}]));
    next = gen.next(answer);
  }
  return { plan: plan.name, steps, result: next.value };
}
