// Test helper for analysis stages: a minimal ComponentContext on an InprocBus, a run, a source stream, output capture.
import type { ComponentContext, ComponentDef, ComponentHooks } from "../../src/component/index.js";
import {
  Counters,
  ErrorCode,
  HutchError,
  RunFactory,
  StreamFactory,
  makeLogger,
  nd,
  nowSec,
  type Document,
  type EventPage,
  type FieldSpec,
  type LogLevel,
  type NdArray,
  type RunInfo,
} from "../../src/core/index.js";
import { InprocBus, type Subscription } from "../../src/transport/index.js";

/** An alarm call captured from a component. */
export interface CapturedAlarm {
  readonly id: string;
  readonly severity: "info" | "warning" | "error";
  readonly message: string;
  readonly active: boolean;
}

/** A stage hosted in a test, with everything it did recorded. */
export interface StageHarness {
  readonly bus: InprocBus;
  readonly ctx: ComponentContext;
  readonly hooks: ComponentHooks;
  readonly counters: Counters;
  readonly logs: { level: LogLevel; message: string }[];
  readonly failures: string[];
  readonly alarms: CapturedAlarm[];
  readonly requests: { command: "pause" | "stop" | "abort"; reason: string }[];
  /** The run started by `start()`. */
  run: RunFactory | undefined;
  /** Validates params as the host does and calls configure. */
  configure(params?: unknown): Promise<void>;
  /** Opens a run, publishes run-start and calls the start hook. */
  start(runNumber?: number): Promise<RunFactory>;
  /** Calls the stop hook; resolves once the stage has published everything of the run. */
  stop(): Promise<void>;
  /** Calls a named action with params validated by its schema. */
  action(name: string, params: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Hosts a stage component the way the runtime does (params validated, hooks called in order), with a
 * context that records alarms, requests to run control, failures and log lines.
 * @example const h = await hostStage(histogramNode, { input: "adc", field: "adc", bins: 10, range: [0, 10] });
 */
export async function hostStage<P>(
  def: ComponentDef<P>,
  params: unknown,
  opts: { name?: string; bus?: InprocBus } = {},
): Promise<StageHarness> {
  const bus = opts.bus ?? new InprocBus("test");
  const name = opts.name ?? def.type;
  const counters = new Counters();
  const abort = new AbortController();
  const h: Omit<StageHarness, "ctx" | "hooks"> & { ctx?: ComponentContext; hooks?: ComponentHooks } = {
    bus,
    counters,
    logs: [],
    failures: [],
    alarms: [],
    requests: [],
    run: undefined,
    async configure(p = params) {
      await hooks.configure?.(def.params.parse(p) as Record<string, unknown>, ctx);
    },
    async start(runNumber = 1) {
      const run = RunFactory.open({ run: runNumber, instrument: bus.instrument, plan: "test", config: {} });
      h.run = run;
      await bus.publish(run.start);
      await hooks.start?.(run.info, ctx);
      return run;
    },
    async stop() {
      await hooks.stop?.(ctx);
      const run = h.run;
      h.run = undefined;
      if (run) await bus.publish(run.stop("success", "test"));
    },
    async action(actionName, p) {
      const a = hooks.actions?.[actionName];
      if (!a) throw new HutchError(ErrorCode.UnknownAction, `no action '${actionName}'`);
      return a.run(a.params.parse(p) as never, ctx, () => undefined);
    },
    async close() {
      abort.abort();
      await hooks.close?.();
    },
  };
  const ctx: ComponentContext = {
    name,
    instrument: bus.instrument,
    bus,
    counters,
    signal: abort.signal,
    dataDir: "/nonexistent",
    configDir: process.cwd(),
    log: makeLogger((level, message) => h.logs.push({ level, message })),
    get run(): RunInfo | undefined {
      return h.run?.info;
    },
    stream(
      stream: string,
      fields: Record<string, FieldSpec>,
      o?: { configuration?: Record<string, unknown> },
    ) {
      const run = h.run;
      if (!run)
        throw new HutchError(ErrorCode.Transition, `${name}: stream '${stream}' requested outside a run`);
      return new StreamFactory(run.info, stream, fields, { component: name, ...o });
    },
    fail(reason: string, cause?: unknown) {
      h.failures.push(cause === undefined ? reason : `${reason}: ${String(cause)}`);
    },
    alarm(id, severity, message, active = true) {
      h.alarms.push({ id, severity, message, active });
      void bus.publish({ kind: "alarm", time: nowSec(), id, source: name, severity, message, active });
    },
    request(command, reason) {
      if (h.run) h.requests.push({ command, reason });
    },
  };
  const hooks = await def.create(def.params.parse(params), ctx);
  return Object.assign(h, { ctx, hooks }) as StageHarness;
}

/** A stream of the test's run that a simulated source publishes. */
export function sourceStream(
  run: RunFactory,
  name: string,
  fields: Record<string, FieldSpec>,
): StreamFactory {
  return new StreamFactory(run.info, name, fields, { component: "source" });
}

/** A page of `time.length` events; scalar columns may be given as plain numbers arrays (float64). */
export function pageOf(
  s: StreamFactory,
  time: ArrayLike<number>,
  data: Record<string, NdArray | number[]>,
): EventPage {
  const cols: Record<string, NdArray> = {};
  for (const [k, v] of Object.entries(data)) cols[k] = Array.isArray(v) ? nd(Float64Array.from(v)) : v;
  return s.page(Float64Array.from(time), cols);
}

/** Captures every document under a topic prefix, losslessly. */
export function capture(bus: InprocBus, prefix: string): { sub: Subscription; drain(): Promise<Document[]> } {
  const sub = bus.subscribe({ prefix, overflow: "block", capacity: 100_000, name: `capture:${prefix}` });
  return {
    sub,
    async drain() {
      const out: Document[] = [];
      for (;;) {
        const m = await sub.get({ timeoutMs: 0 });
        if (!m) return out;
        out.push(m.doc);
      }
    },
  };
}

/** The events of a stream among captured documents, in order (pages expanded to their `data` per page). */
export function eventsOf(docs: Document[], stream: string): Extract<Document, { kind: "event" }>[] {
  return docs.filter(
    (d): d is Extract<Document, { kind: "event" }> => d.kind === "event" && d.stream === stream,
  );
}

/** The pages of a stream among captured documents. */
export function pagesOf(docs: Document[], stream: string): EventPage[] {
  return docs.filter((d): d is EventPage => d.kind === "event-page" && d.stream === stream);
}

/** A promise that resolves once `cond()` holds, checked after each macrotask; rejects after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
