// The component runtime: hosts one component, speaks the core protocol, heartbeats, runs hooks and actions.
import {
  Counters,
  ErrorCode,
  HutchError,
  StreamFactory,
  makeLogger,
  nowSec,
  toHutchError,
  type Hook,
  type RunInfo,
  type RunState,
} from "../core/index.js";
import type { InprocBus } from "../transport/index.js";
import type { ComponentToCore, CoreToComponent, Link } from "./protocol.js";
import type { ComponentContext, ComponentDef, ComponentHooks } from "./types.js";

/** Default heartbeat period (ms); the core declares a component lost after 5 missed beats. */
export const HEARTBEAT_MS = 300;

/** Options of a component host. */
export interface HostOptions {
  readonly name: string;
  readonly def: ComponentDef<unknown>;
  /** Raw params from the instrument file (validated here against `def.params`). */
  readonly params: unknown;
  readonly instrument: string;
  readonly bus: InprocBus;
  readonly dataDir: string;
  /** Directory of the instrument file (default: the working directory). */
  readonly configDir?: string;
  readonly link: Link<ComponentToCore, CoreToComponent>;
  readonly heartbeatMs?: number;
  /** `inproc` or a process id. */
  readonly placement?: string;
}

const STATE_AFTER: Record<Hook, RunState> = {
  configure: "READY",
  start: "RUN",
  pause: "PAUSED",
  resume: "RUN",
  stop: "STOP",
  reset: "STOP",
};

/**
 * Hosts one component: validates its params, creates it, registers with the core and heartbeats; executes
 * the hooks and actions the core asks for and reports results. The component itself implements hooks only.
 * @example const host = await ComponentHost.create({ name: "wf", def, params, instrument, bus, dataDir, link });
 */
export class ComponentHost {
  state: RunState = "STOP";
  lastError: string | undefined;
  readonly counters = new Counters();
  private hooks: ComponentHooks = {};
  private run: RunInfo | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  readonly ctx: ComponentContext;

  private early: ComponentToCore[] | undefined = [];

  private constructor(private readonly opts: HostOptions) {
    // Lines logged while the component is being created go out after its hello, so the core knows the sender.
    const send = (m: ComponentToCore) => (this.early ? this.early.push(m) : opts.link.send(m));
    const runOf = () => this.run;
    this.ctx = {
      name: opts.name,
      instrument: opts.instrument,
      bus: opts.bus,
      counters: this.counters,
      signal: this.abort.signal,
      dataDir: opts.dataDir,
      configDir: opts.configDir ?? process.cwd(),
      log: makeLogger((level, message, fields) =>
        send(
          fields
            ? { t: "log", time: nowSec(), level, message, fields }
            : { t: "log", time: nowSec(), level, message },
        ),
      ),
      get run() {
        return runOf();
      },
      stream: (stream, fields, o) => {
        const run = runOf();
        if (!run)
          throw new HutchError(
            ErrorCode.Transition,
            `${opts.name}: stream '${stream}' requested outside a run`,
          );
        return new StreamFactory(run, stream, fields, { component: opts.name, ...o });
      },
      fail: (reason, cause) => {
        if (this.state === "ERROR") return;
        const why = cause === undefined ? reason : `${reason}: ${toHutchError(cause).message}`;
        this.state = "ERROR";
        this.lastError = why;
        send({ t: "fail", reason: why });
        this.beat();
      },
      alarm: (id, severity, message, active = true) => {
        void opts.bus.publish({
          kind: "alarm",
          time: nowSec(),
          id,
          source: opts.name,
          severity,
          message,
          active,
        });
      },
      request: (command, reason) => {
        if (runOf()) send({ t: "request", command, reason });
      },
    };
  }

  /** Validates params, creates the component and registers it with the core. */
  static async create(opts: HostOptions): Promise<ComponentHost> {
    const host = new ComponentHost(opts);
    const parsed = opts.def.params.safeParse(opts.params ?? {});
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new HutchError(
        ErrorCode.Config,
        `component '${opts.name}' (${opts.def.type}): params.${i.path.join(".")}: ${i.message}`,
      );
    }
    host.hooks = await opts.def.create(parsed.data, host.ctx);
    opts.link.onMessage((m) => void host.handle(m));
    host.hello();
    host.timer = setInterval(() => host.beat(), opts.heartbeatMs ?? HEARTBEAT_MS);
    host.timer.unref?.();
    return host;
  }

  /** Announces the component (again, e.g. after the core restarted). */
  hello(): void {
    this.opts.link.send({
      t: "hello",
      name: this.opts.name,
      type: this.opts.def.type,
      role: this.opts.def.role ?? "stage",
      heartbeatMs: this.opts.heartbeatMs ?? HEARTBEAT_MS,
      actions: Object.entries(this.hooks.actions ?? {}).map(([name, a]) => ({
        name,
        description: a.description,
      })),
      placement: this.opts.placement ?? "inproc",
      state: this.state,
    });
    const early = this.early;
    this.early = undefined;
    for (const m of early ?? []) this.opts.link.send(m);
  }

  private beat(): void {
    this.opts.link.send({
      t: "hb",
      state: this.state,
      counters: this.counters.snapshot(),
      ...(this.lastError ? { error: this.lastError } : {}),
    });
  }

  private async handle(m: CoreToComponent): Promise<void> {
    if (m.t === "welcome") return;
    if (m.t === "rehello") return this.hello();
    const reply = this.opts.link.send.bind(this.opts.link);
    try {
      if (m.t === "hook") {
        const data = await this.runHook(m.hook, m.config, m.run);
        reply({ t: "reply", id: m.id, type: "result", data: data ?? null });
      } else {
        const a = this.hooks.actions?.[m.action];
        if (!a) {
          const known = Object.keys(this.hooks.actions ?? {}).join(", ") || "none";
          throw new HutchError(
            ErrorCode.UnknownAction,
            `'${this.opts.name}' has no action '${m.action}' (actions: ${known})`,
          );
        }
        const p = a.params.safeParse(m.params ?? {});
        if (!p.success) {
          const i = p.error.issues[0]!;
          throw new HutchError(
            ErrorCode.Validation,
            `${this.opts.name}.${m.action}: params.${i.path.join(".")}: ${i.message}`,
          );
        }
        const data = await a.run(p.data as never, this.ctx, (d) =>
          reply({
            t: "reply",
            id: m.id,
            type: "progress",
            message: `${this.opts.name}.${m.action}`,
            data: d,
          }),
        );
        reply({ t: "reply", id: m.id, type: "result", data: data ?? null });
      }
    } catch (err) {
      const e = toHutchError(err, ErrorCode.ComponentFailed);
      reply({ t: "reply", id: m.id, type: "error", code: e.code, message: e.message });
    }
  }

  private async runHook(hook: Hook, config?: Record<string, unknown>, run?: RunInfo): Promise<unknown> {
    const h = this.hooks;
    let validated: Record<string, unknown> = {};
    if (hook === "configure") {
      // A bad configuration is refused before anything changes: the component keeps its state.
      const merged: Record<string, unknown> = { ...(this.opts.params as object), ...(config ?? {}) };
      const p = this.opts.def.params.safeParse(merged);
      if (!p.success) {
        const i = p.error.issues[0]!;
        const got = merged[String(i.path[0])];
        const shown = got === undefined ? "" : ` (got ${JSON.stringify(got)})`;
        throw new HutchError(
          ErrorCode.Config,
          `${this.opts.name}: params.${i.path.join(".")}: ${i.message}${shown}`,
        );
      }
      validated = p.data as Record<string, unknown>;
    }
    try {
      let out: unknown;
      switch (hook) {
        case "configure":
          out = await h.configure?.(validated, this.ctx);
          break;
        case "start":
          this.run = run;
          out = await h.start?.(run!, this.ctx);
          break;
        case "stop":
          out = await h.stop?.(this.ctx);
          this.run = undefined;
          break;
        default:
          out = await h[hook]?.(this.ctx);
      }
      if (!(hook === "stop" && this.state === "ERROR")) this.state = STATE_AFTER[hook];
      if (hook === "reset") this.lastError = undefined;
      this.beat();
      return out;
    } catch (err) {
      const e = toHutchError(err, ErrorCode.ComponentFailed);
      if (hook === "configure" && (e.code === ErrorCode.Config || e.code === ErrorCode.Validation)) {
        // A configuration the component refuses changes nothing: it keeps its state.
        throw new HutchError(e.code, `'${this.opts.name}' refused the configuration: ${e.message}`, {
          cause: err,
        });
      }
      this.state = "ERROR";
      this.lastError = `${hook} failed: ${e.message}`;
      this.beat();
      throw new HutchError(e.code, `'${this.opts.name}' ${hook} failed: ${e.message}`, { cause: err });
    }
  }

  /** Stops heartbeats, closes the component (its close hook) and says goodbye. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.abort.abort();
    try {
      if (this.run) await this.hooks.stop?.(this.ctx);
    } catch (err) {
      this.ctx.log.error(`stop during close failed: ${toHutchError(err).message}`);
    }
    await this.hooks.close?.();
    this.opts.link.send({ t: "bye" });
    this.opts.link.close();
  }
}
