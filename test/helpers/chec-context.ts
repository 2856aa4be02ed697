// Test helper: hosts components with a minimal ComponentContext (InprocBus + Counters + makeLogger) and drives their hooks.
import type { ComponentContext, ComponentDef, ComponentHooks } from "../../src/component/index.js";
import {
  Counters,
  ErrorCode,
  HutchError,
  RunFactory,
  StreamFactory,
  makeLogger,
  type EventPage,
  type LogLevel,
  type RunInfo,
} from "../../src/core/index.js";
import { timeWindowBuilderComponent } from "../../src/builder/time-window-component.js";
import { TARGET_C_READOUT_BYTES } from "../../src/codecs/index.js";
import type { TargetCSim } from "../../src/sim/target-c/target-c-sim.js";
import { NativeUdpReceiver } from "../../src/sources/target-c/native-udp-receiver.js";
import { targetCSourceComponent } from "../../src/sources/target-c/target-c-source.js";
import { InprocBus, type Subscription } from "../../src/transport/index.js";
import { freeUdpPort } from "./ports.js";

/** A log line captured from a component. */
export interface CapturedLog {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields?: Record<string, unknown>;
}

/** A component hosted in a test: its context, hooks, captured logs and failures. */
export interface TestComponent {
  readonly ctx: ComponentContext;
  readonly hooks: ComponentHooks;
  readonly counters: Counters;
  readonly logs: CapturedLog[];
  readonly failures: string[];
  configure(): Promise<void>;
  start(run: RunInfo): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
}

/** Hosts `def` with validated `params` on `bus` (instrument = bus.instrument). */
export async function hostComponent<P>(
  def: ComponentDef<P>,
  params: unknown,
  bus: InprocBus,
  name = def.type,
): Promise<TestComponent> {
  const parsed = def.params.parse(params ?? {});
  const counters = new Counters();
  const logs: CapturedLog[] = [];
  const failures: string[] = [];
  const abort = new AbortController();
  let run: RunInfo | undefined;
  const ctx: ComponentContext = {
    name,
    instrument: bus.instrument,
    bus,
    counters,
    signal: abort.signal,
    dataDir: "/nonexistent",
    configDir: process.cwd(),
    log: makeLogger((level, message, fields) =>
      logs.push(fields ? { level, message, fields } : { level, message }),
    ),
    get run() {
      return run;
    },
    stream(stream, fields, o) {
      if (!run)
        throw new HutchError(ErrorCode.Transition, `${name}: stream '${stream}' requested outside a run`);
      return new StreamFactory(run, stream, fields, { component: name, ...o });
    },
    fail(reason, cause) {
      failures.push(cause === undefined ? reason : `${reason}: ${String(cause)}`);
    },
    alarm() {},
    request() {},
  };
  const hooks = await def.create(parsed, ctx);
  return {
    ctx,
    hooks,
    counters,
    logs,
    failures,
    configure: async () => {
      await hooks.configure?.(parsed as Record<string, unknown>, ctx);
    },
    start: async (r) => {
      run = r;
      await hooks.start?.(r, ctx);
    },
    stop: async () => {
      await hooks.stop?.(ctx);
      run = undefined;
    },
    close: async () => {
      abort.abort();
      await hooks.close?.();
    },
  };
}

/**
 * The receive paths of the target-c source to test: the native one (recvmmsg) when the addon is built, which CI
 * requires (a test fails there without it), and dgram always.
 */
export const CHEC_RECEIVERS: readonly ("native" | "dgram")[] =
  NativeUdpReceiver.available() || process.env.CI === "true" ? ["native", "dgram"] : ["dgram"];

/** A run of `instrument` (uid and number), as the core would hand it to components. */
export function testRun(instrument: string, run = 1): RunInfo {
  return RunFactory.open({ run, instrument, plan: "test", config: {} }).info;
}

/** Resolves once `cond()` holds, polling every few ms; rejects with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The CHEC chain as instrument-file components: a target-c source on `port` -> a builder of `events`. */
export function checChainComponents(port: number) {
  return [
    {
      name: "tm",
      type: "target-c-source",
      params: { host: "127.0.0.1", port, modules: 32, stream: "readouts" },
    },
    {
      name: "builder",
      type: "time-window-builder",
      params: { input: "readouts", output: "events", modules: 32, windowNs: 10_000_000, timeoutMs: 200 },
    },
  ];
}

/** A CHEC pipeline in one process: target-c source -> time-window builder -> `events` subscription. */
export interface ChecPipeline {
  readonly bus: InprocBus;
  readonly source: TestComponent;
  readonly builder: TestComponent;
  readonly port: number;
  readonly events: Subscription;
  /** Stops source then builder (data-flow order) and returns every event page published. */
  stop(): Promise<EventPage[]>;
  close(): Promise<void>;
}

/** Starts source and builder for one run on a free loopback port. */
export async function startChecPipeline(
  sourceParams: Record<string, unknown> = {},
  builderParams: Record<string, unknown> = {},
): Promise<ChecPipeline> {
  const bus = new InprocBus("chec");
  const port = await freeUdpPort();
  const source = await hostComponent(
    targetCSourceComponent,
    { host: "127.0.0.1", port, modules: 32, ...sourceParams },
    bus,
  );
  const builder = await hostComponent(
    timeWindowBuilderComponent,
    { modules: 32, windowNs: 10_000_000, timeoutMs: 2000, ...builderParams },
    bus,
  );
  const events = bus.subscribe({
    prefix: "chec/events/",
    overflow: "block",
    capacity: 100_000,
    name: "test-events",
  });
  const run = testRun("chec", 42);
  await builder.configure();
  await source.configure();
  await builder.start(run);
  await source.start(run);
  const pages: EventPage[] = [];
  return {
    bus,
    source,
    builder,
    port,
    events,
    async stop() {
      await source.stop();
      await builder.stop();
      for (let m = await events.get({ timeoutMs: 0 }); m; m = await events.get({ timeoutMs: 0 })) {
        if (m.doc.kind === "event-page") pages.push(m.doc);
      }
      return pages;
    },
    async close() {
      events.close();
      await source.close();
      await builder.close();
      bus.close();
    },
  };
}

/** Every readout a simulator sent with a possible timestamp, by `module:timestamp`, as its 144 raw bytes. */
export function recordSent(sim: TargetCSim): Map<string, Buffer> {
  const sent = new Map<string, Buffer>();
  sim.onDatagram = (m, bytes, kind) => {
    if (kind !== "data" && kind !== "corrupt") return;
    for (let o = 0; o < bytes.length; o += TARGET_C_READOUT_BYTES) {
      const ts = bytes.readBigUInt64BE(o);
      if (ts !== 0xffff_ffff_ffff_ffffn)
        sent.set(`${m}:${ts}`, bytes.subarray(o, o + TARGET_C_READOUT_BYTES));
    }
  };
  return sent;
}

/** What the events hold, checked against the raw bytes sent: every readout once, with exact mV and timestamps. */
export interface EventCheck {
  events: number;
  complete: number;
  /** module:timestamp keys found in events but never sent, or found twice. */
  problems: string[];
  /** Sent readouts found in no event. */
  missing: number;
  /** Module masks of the events, as strings of 0/1. */
  masks: string[];
  eventNumbers: bigint[];
  runNumbers: Set<bigint>;
}

/** Checks event pages against `sent` (see recordSent), computing mV from the raw words independently. */
export function checkEvents(
  pages: EventPage[],
  sent: Map<string, Buffer>,
  modules = 32,
  expectedSubset = false,
): EventCheck {
  const seen = new Set<string>();
  const out: EventCheck = {
    events: 0,
    complete: 0,
    problems: [],
    missing: 0,
    masks: [],
    eventNumbers: [],
    runNumbers: new Set(),
  };
  for (const p of pages) {
    const mask = p.data.module_mask!.data as Uint8Array;
    const mts = p.data.module_timestamp!.data as BigUint64Array;
    const aux = p.data.aux_timestamp!.data as BigUint64Array;
    const data = p.data.data!.data as Float32Array;
    const en = p.data.event_number!.data as BigUint64Array;
    const rn = p.data.run_number!.data as BigUint64Array;
    const complete = p.data.complete!.data as Uint8Array;
    const nModules = p.data.n_modules!.data as Uint16Array;
    for (let e = 0; e < p.n; e++) {
      out.events++;
      out.eventNumbers.push(en[e]!);
      out.runNumbers.add(rn[e]!);
      let present = 0;
      let maskStr = "";
      for (let m = 0; m < modules; m++) {
        const k = e * modules + m;
        maskStr += mask[k] ? "1" : "0";
        if (!mask[k]) {
          if (!Number.isNaN(data[k * 64]!)) out.problems.push(`event ${e}: absent module ${m} has data`);
          continue;
        }
        present++;
        const key = `${m}:${mts[k]}`;
        const raw = sent.get(key);
        if (!raw || seen.has(key)) {
          out.problems.push(raw ? `${key} twice` : `${key} never sent`);
          continue;
        }
        seen.add(key);
        if (raw.readBigUInt64BE(72) !== aux[k]) out.problems.push(`${key}: aux timestamp differs`);
        for (let px = 0; px < 64; px++) {
          const word = raw.readUInt16BE(px < 32 ? 8 + 2 * px : 80 + 2 * (px - 32));
          const mv = Math.fround((word ^ 0x8000) * 0.0763);
          if (data[k * 64 + px] !== mv) {
            out.problems.push(`${key} pixel ${px}: ${data[k * 64 + px]} != ${mv}`);
            break;
          }
        }
      }
      if (present === modules) out.complete++;
      if (nModules[e] !== present) out.problems.push(`event ${e}: n_modules ${nModules[e]} != ${present}`);
      if (complete[e] !== (present === modules ? 1 : 0) && !expectedSubset) {
        out.problems.push(`event ${e}: complete flag ${complete[e]} with ${present} modules`);
      }
      out.masks.push(maskStr);
    }
  }
  out.missing = sent.size - seen.size;
  return out;
}
