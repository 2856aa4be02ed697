// The run-control core: registry, state machine, runs and their documents, catalog, lost components, watchdogs.
import {
  ErrorCode,
  HutchError,
  RunFactory,
  allowedCommands,
  lowestState,
  nowSec,
  toHutchError,
  transitionFor,
  type Command,
  type Document,
  type ExitStatus,
  type Log,
  type LogLevel,
  type RunInfo,
  type RunStart,
  type RunState,
} from "../core/index.js";
import type { ComponentToCore, CoreToComponent, Link } from "../component/index.js";
import type { CallOptions, CatalogEntry, OperatorApi, Progress, SystemStatus } from "./api-types.js";
import { RunCatalog } from "./catalog.js";
import { DEFAULT_CALL_TIMEOUT_MS, progressOf } from "./progress.js";
import { hookInOrder, stopRoles } from "./phases.js";
import { pumpReplay, replayFiles } from "./replay.js";
import { Telemetry, busValues } from "./telemetry.js";
import { registerCore, unregisterCore } from "./plans/core-registry.js";
import { ComponentTable } from "./component-table.js";
import type { ComponentEntry } from "./registry.js";
import { Watchdogs } from "./watchdogs.js";
import type { ActiveRun, RunControlOptions } from "./run-control-options.js";

export type { RunControlOptions } from "./run-control-options.js";

/**
 * One core per instrument. Owns the transitions (table in core/states.ts); components only implement hooks.
 * Implements the OperatorApi in-process; `serveControl` exposes it and the component protocol over ZeroMQ.
 */
export class RunControl implements OperatorApi {
  readonly catalog: RunCatalog;
  private readonly components: ComponentTable;
  private coreState: RunState = "STOP";
  private reason: string | undefined;
  private runConfig: Record<string, unknown>;
  private active: ActiveRun | undefined;
  private lastSystem: RunState = "STOP";
  private readonly telemetry: Telemetry;
  private busy: Promise<unknown> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private readonly untap: () => void;
  private readonly watchdogs: Watchdogs;
  private readonly now: () => number;

  constructor(private readonly opts: RunControlOptions) {
    this.now = opts.now ?? Date.now;
    this.telemetry = new Telemetry(opts.bus, this.now);
    this.runConfig = { ...(opts.defaultRun ?? {}) };
    this.components = new ComponentTable(
      opts.instrument,
      {
        log: (level, component, message) => this.log(level, component, message),
        componentLog: (doc) => this.telemetry.push(doc),
        heartbeat: (e) => this.telemetry.metric(e.name, () => e.counters),
        fault: (_e, reason) => this.fault(reason, this.opts.onComponentFault ?? "error"),
        request: (e, command, reason) =>
          void this.drain(this.command(command, { reason: `${e.name}: ${reason}` })),
      },
      this.now,
    );
    this.catalog = new RunCatalog(opts.dataDir);
    registerCore(opts.bus, this); // plans hosted by components of this process find their core
    this.watchdogs = new Watchdogs(opts.watchdogs ?? [], this.now, (reason, action) =>
      this.fault(reason, action),
    );
    this.untap = opts.bus.tap(`${opts.instrument}/`, ({ doc }) => this.observe(doc));
    this.timer = setInterval(() => this.tick(), 100);
    this.timer.unref?.();
  }

  /** Accepts a component connection (in-process link or a ZeroMQ peer). */
  attach(link: Link<CoreToComponent, ComponentToCore>): void {
    this.components.attach(link);
  }

  /** The system state: the lowest of the core's and every component's (a lost component counts as ERROR). */
  get state(): RunState {
    const states: RunState[] = [this.coreState];
    for (const c of this.components.all()) states.push(c.lost ? "ERROR" : c.state);
    return lowestState(states);
  }

  async status(): Promise<SystemStatus> {
    const now = this.now();
    const s = this.state;
    return {
      instrument: this.opts.instrument,
      state: s,
      ...(this.reason ? { reason: this.reason } : {}),
      ...(this.active
        ? {
            run: {
              number: this.active.factory.start.run,
              uid: this.active.factory.start.uid,
              startedAt: this.active.factory.start.time,
              counts: { ...this.active.factory.counts },
            },
          }
        : {}),
      ...(this.catalog.lastRun !== undefined ? { lastRun: this.catalog.lastRun } : {}),
      allowed: s === "STOP" ? [...allowedCommands(s), "start"] : allowedCommands(s),
      components: this.components.all().map((c) => c.status(now)),
      bus: busValues(this.opts.bus),
      config: this.runConfig,
    };
  }

  async runs(): Promise<CatalogEntry[]> {
    return this.catalog.list();
  }

  async logs(opts: { last?: number } = {}): Promise<Log[]> {
    return this.telemetry.last(opts.last ?? 100);
  }

  command(
    command: Command,
    params: Record<string, unknown> = {},
    opts: CallOptions = {},
  ): AsyncIterable<Progress> {
    const timeoutMs =
      opts.timeoutMs ?? Math.max(DEFAULT_CALL_TIMEOUT_MS, (this.opts.hookTimeoutMs ?? 10_000) * 3 + 1000);
    return progressOf(
      (say) => this.serial(() => this.execute(command, params, say)),
      timeoutMs,
      `run ${command}`,
    );
  }

  call(
    component: string,
    action: string,
    params: unknown = {},
    opts: CallOptions = {},
  ): AsyncIterable<Progress> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    return progressOf(
      (say) => this.components.call(component, action, params, timeoutMs, say),
      timeoutMs + 50,
      `${component}.${action}`,
    );
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.busy.then(fn, fn);
    this.busy = next.catch(() => undefined);
    return next;
  }

  private async execute(
    command: Command,
    params: Record<string, unknown>,
    say: (m: string, d?: unknown) => void,
  ): Promise<unknown> {
    const from = this.state;
    if (command === "start" && from === "STOP") {
      say("preparing with the current configuration first");
      await this.execute("prepare", params, say);
    } else if (!transitionFor(from, command)) {
      throw new HutchError(
        ErrorCode.Transition,
        `cannot ${command} in state ${from}${this.reason ? ` (${this.reason})` : ""}; allowed: ${allowedCommands(from).join(", ")}`,
      );
    }
    const reason = typeof params.reason === "string" ? params.reason : undefined;
    switch (command) {
      case "prepare":
        return this.prepare(params, say);
      case "start":
        return this.startRun(params, say);
      case "pause":
      case "resume":
        await this.hookAll(command, command === "pause" ? "sources-first" : "sinks-first", say);
        this.coreState = command === "pause" ? "PAUSED" : "RUN";
        // A pause keeps its reason visible in the status until the run resumes.
        this.reason = command === "pause" && reason ? `paused: ${reason}` : undefined;
        if (command === "resume") this.watchdogs.arm();
        this.log(
          "info",
          "core",
          `run ${this.active?.factory.start.run} ${command === "pause" ? "paused" : "resumed"}${reason ? `: ${reason}` : ""}`,
        );
        return { state: this.state };
      case "stop":
        return this.endRun("success", reason ?? "stopped by operator", say);
      case "abort":
        if (!this.active) {
          await this.hookAll("stop", "sources-first", say);
          this.coreState = "STOP";
          return { state: this.state };
        }
        return this.endRun("abort", reason ?? "aborted by operator", say);
      case "reset":
        this.components.dropLost();
        await this.hookAll("reset", "sinks-first", say);
        this.coreState = "STOP";
        this.reason = undefined;
        return { state: this.state };
    }
  }

  private async prepare(
    params: Record<string, unknown>,
    say: (m: string, d?: unknown) => void,
  ): Promise<unknown> {
    const missing = (this.opts.expected ?? []).filter((n) => !this.components.has(n));
    if (missing.length) {
      throw new HutchError(
        ErrorCode.UnknownComponent,
        `cannot prepare: component(s) not registered yet: ${missing.join(", ")}`,
      );
    }
    // An empty prepare re-arms with the current configuration; otherwise the given one replaces it.
    const given: Record<string, unknown> = { ...params };
    delete given.reason;
    if (Object.keys(given).length) this.runConfig = given;
    const overrides = (this.runConfig.components ?? {}) as Record<string, Record<string, unknown>>;
    // Every configure hook is awaited before a failure is reported, so none finishes after the next command.
    const results = await Promise.allSettled(
      this.live().map(async (c) => {
        await c.request(
          { t: "hook", hook: "configure", config: overrides[c.name] ?? {} },
          this.hookTimeoutMs,
        );
        say(`${c.name}: READY`);
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) this.failTransition("prepare", failed.reason);
    this.coreState = "READY";
    this.reason = undefined;
    return { state: this.state };
  }

  private async startRun(
    params: Record<string, unknown>,
    say: (m: string, d?: unknown) => void,
    replayOf?: (run: number) => Promise<RunStart>,
  ): Promise<unknown> {
    const run = this.catalog.allocateRun();
    const plan = typeof this.runConfig.plan === "string" ? this.runConfig.plan : "run";
    const factory = replayOf
      ? RunFactory.adopt(await replayOf(run))
      : RunFactory.open({
          run,
          instrument: this.opts.instrument,
          plan,
          config: { instrument: this.opts.config, run: this.runConfig },
        });
    const start = factory.start;
    this.active = { factory, startedAtMs: this.now(), ...(replayOf ? { replay: true } : {}) };
    this.catalog.begin({
      run,
      uid: start.uid,
      instrument: this.opts.instrument,
      plan: start.plan,
      startTime: start.time,
      counts: {},
      config: start.config,
      files: [],
      ...(start.replay ? { replay: { of: start.replay.of, file: start.replay.file } } : {}),
    });
    await this.opts.bus.publish(start);
    say(`run ${run} opened (${start.uid})${start.replay ? `, replaying ${start.replay.file}` : ""}`);
    try {
      await this.hookAll("start", "sinks-first", say, { run: factory.info });
    } catch (err) {
      const e = toHutchError(err);
      await this.endRun("fail", `start failed: ${e.message}`, say);
      this.coreState = "ERROR";
      this.reason = `start failed: ${e.message}`;
      throw e;
    }
    this.coreState = "RUN";
    if (!replayOf) this.watchdogs.arm();
    this.log("info", "core", `run ${run} started${start.replay ? ` (replay of ${start.replay.file})` : ""}`);
    return { run, uid: start.uid, state: this.state };
  }

  /**
   * Replays stored documents as a new run through the live chain (stages, sinks, dashboard); sources stay idle.
   * `open(run)` yields the replayed documents starting with their run-start (see storage's `asReplay`); the
   * file's own run-stop ends the replay with its exit status. Progress: events published so far.
   */
  replay(files: readonly string[], opts: CallOptions & { speed?: number } = {}): AsyncIterable<Progress> {
    return replayFiles(this, files, opts);
  }

  /** Replays documents from any source (see {@link replay}); `open(run)` starts with the replayed run-start. */
  replayDocs(
    open: (run: number) => AsyncIterator<Document>,
    opts: { speed?: number; totalEvents?: number; timeoutMs?: number } = {},
  ): AsyncIterable<Progress> {
    return progressOf(
      (say) =>
        this.serial(async () => {
          if (this.state !== "STOP" && this.state !== "READY") {
            throw new HutchError(
              ErrorCode.Transition,
              `cannot replay in state ${this.state}; stop the run first`,
            );
          }
          if (this.state === "STOP") await this.prepare({}, say);
          let docs: AsyncIterator<Document> | undefined;
          await this.startRun({}, say, async (run) => {
            docs = open(run);
            const first = await docs.next();
            if (first.done || first.value.kind !== "run-start") {
              throw new HutchError(ErrorCode.Validation, "replay: the file does not begin with a run-start");
            }
            return first.value;
          });
          const r = await pumpReplay(docs!, (d) => this.opts.bus.publish(d), {
            speed: opts.speed ?? 0,
            total: opts.totalEvents ?? 0,
            say,
            skipComponent: (name) => {
              const c = this.components.get(name);
              return c !== undefined && !c.lost && c.hello.role !== "source";
            },
          });
          return this.endRun(
            r.stop?.exitStatus ?? "success",
            `replay of ${r.stop ? `run ${r.stop.run}` : "a run"}: ${r.stop?.reason ?? "file ended"}`,
            say,
          );
        }),
      opts.timeoutMs ?? 24 * 3600_000,
      "replay",
    );
  }

  /** Ends the current run: stop sources and stages, publish run-stop, stop sinks, complete the catalog. */
  private async endRun(
    exitStatus: ExitStatus,
    reason: string,
    say: (m: string, d?: unknown) => void,
  ): Promise<unknown> {
    const active = this.active;
    if (!active) return { state: this.state };
    this.watchdogs.disarm();
    const t = this.hookTimeoutMs;
    const early = active.replay
      ? { files: [], errors: [] }
      : await stopRoles(this.live(), ["source"], t, say);
    const mid = await stopRoles(this.live(), ["stage"], t, say);
    const errors = [...early.errors, ...mid.errors];
    const finalStatus: ExitStatus = errors.length && exitStatus === "success" ? "fail" : exitStatus;
    const finalReason =
      errors.length && exitStatus === "success" ? `${reason}; ${errors.join("; ")}` : reason;
    const stop = active.factory.stop(finalStatus, finalReason);
    await this.opts.bus.publish(stop);
    const late = await stopRoles(this.live(), ["sink"], t, say);
    errors.push(...late.errors);
    const files = [...early.files, ...mid.files, ...late.files];
    this.active = undefined;
    this.catalog.finish(stop.run, {
      stopTime: stop.time,
      exitStatus: stop.exitStatus,
      reason: stop.reason,
      counts: stop.counts,
      files,
    });
    this.coreState = "STOP";
    this.log(
      finalStatus === "success" ? "info" : "warn",
      "core",
      `run ${stop.run} ended (${finalStatus}): ${finalReason}`,
    );
    return {
      run: stop.run,
      exitStatus: finalStatus,
      reason: finalReason,
      counts: stop.counts,
      files,
      state: this.state,
    };
  }

  private async hookAll(
    hook: "start" | "pause" | "resume" | "stop" | "reset",
    order: "sinks-first" | "sources-first",
    say: (m: string, d?: unknown) => void,
    extra: { run?: RunInfo } = {},
  ): Promise<void> {
    // During a replay the sources stay idle: the data comes from the file.
    const who = this.active?.replay ? this.live().filter((c) => c.hello.role !== "source") : this.live();
    await hookInOrder(who, hook, order, this.hookTimeoutMs, say, extra).catch((err) =>
      this.failTransition(hook, err),
    );
  }

  private failTransition(what: string, err: unknown): never {
    const e = toHutchError(err);
    if (e.code === ErrorCode.Config || e.code === ErrorCode.Validation) {
      this.log("warn", "core", `${what} refused: ${e.message}`);
      throw e; // a refused configuration changes nothing
    }
    this.coreState = "ERROR";
    this.reason = `${what}: ${e.message}`;
    this.log("error", "core", this.reason);
    throw e;
  }

  /** A lost or failed component, a watchdog, a rule: end the run (ERROR) or pause it, recording why. */
  private fault(reason: string, action: "error" | "pause" | "abort" | "stop"): void {
    this.log("error", "core", reason);
    this.telemetry.alarm(`core:${reason}`, reason);
    if (!this.active) {
      if (action === "error") {
        this.coreState = "ERROR";
        this.reason = reason;
      }
      return;
    }
    if (action === "pause") {
      void this.drain(this.command("pause", { reason }));
      return;
    }
    const status: ExitStatus = action === "stop" ? "success" : action === "abort" ? "abort" : "fail";
    void this.serial(async () => {
      await this.endRun(status, reason, () => undefined);
      if (action === "error") {
        this.coreState = "ERROR";
        this.reason = reason;
      }
    }).catch((err) =>
      this.log("error", "core", `ending the run after a fault failed: ${toHutchError(err).message}`),
    );
  }

  private async drain(s: AsyncIterable<Progress>): Promise<void> {
    for await (const p of s) if (p.type === "error") this.log("error", "core", p.message);
  }

  private observe(doc: Document): void {
    const a = this.active;
    if (!a) return;
    a.factory.count(doc);
    if (doc.kind === "event" || doc.kind === "event-page") this.watchdogs.saw(doc.stream);
  }

  private tick(): void {
    this.components.check(this.lostAfterMs);
    this.telemetry.metric("bus", () => busValues(this.opts.bus));
    if (this.coreState === "RUN") this.watchdogs.check();
    const s = this.state;
    if (s !== this.lastSystem) {
      this.lastSystem = s;
      void this.opts.bus.publish({
        kind: "state",
        time: nowSec(),
        component: "system",
        state: s,
        ...(this.active ? { run: this.active.factory.start.run } : {}),
        ...(this.reason ? { reason: this.reason } : {}),
      });
    }
  }

  /** Logs as the core (or on behalf of a component): ring buffer and bus. */
  log(level: LogLevel, component: string, message: string): void {
    this.telemetry.log(level, component, message);
  }

  private live(): ComponentEntry[] {
    return this.components.live();
  }

  private get lostAfterMs(): number {
    return this.opts.lostAfterMs ?? 1500;
  }

  private get hookTimeoutMs(): number {
    return this.opts.hookTimeoutMs ?? 10_000;
  }

  /** Stops timers; the current run (if any) is aborted with the reason "core shut down". */
  async close(): Promise<void> {
    if (this.active)
      await this.drain(this.command("abort", { reason: "core shut down" }, { timeoutMs: 15_000 }));
    clearInterval(this.timer);
    this.untap();
    unregisterCore(this.opts.bus, this);
  }
}
