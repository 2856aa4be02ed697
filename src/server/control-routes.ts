// REST for run control and what an operator reads: status, components, runs, configuration, logs, actions.
import type { FastifyInstance, FastifyReply } from "fastify";
import { ErrorCode, HutchError, LOG_LEVELS, toHutchError, type LogLevel } from "../core/index.js";
import type { OperatorApi, Progress } from "../control/index.js";
import {
  ActionBody,
  CommandBody,
  PrepareBody,
  checkOverrides,
  parseBody,
  parseCommand,
  type ComponentInfo,
} from "./control-bodies.js";

/** HTTP status of each error code (anything else is a 500). */
const STATUS: Partial<Record<string, number>> = {
  [ErrorCode.Validation]: 400,
  [ErrorCode.Config]: 400,
  [ErrorCode.Transition]: 409,
  [ErrorCode.UnknownComponent]: 404,
  [ErrorCode.UnknownAction]: 404,
  [ErrorCode.Timeout]: 504,
  [ErrorCode.ComponentLost]: 503,
  [ErrorCode.ComponentFailed]: 502,
};

/** Sends a HutchError as `{error: {code, message}}` with the status of its code. */
export function sendError(
  reply: FastifyReply,
  err: unknown,
  extra: Record<string, unknown> = {},
): FastifyReply {
  const e = toHutchError(err);
  return reply.code(STATUS[e.code] ?? 500).send({ error: { code: e.code, message: e.message }, ...extra });
}

/** Runs an operator call to its end and returns its result or error. */
async function collect(
  stream: AsyncIterable<Progress>,
): Promise<{ progress: string[]; data?: unknown; error?: HutchError }> {
  const progress: string[] = [];
  for await (const p of stream) {
    if (p.type === "progress") progress.push(p.message);
    else if (p.type === "result") return { progress, data: p.data ?? null };
    else return { progress, error: new HutchError(p.code as ErrorCode, p.message) };
  }
  return { progress, error: new HutchError(ErrorCode.Internal, "the call ended without a result") };
}

/** Runs an operator call to its end: 200 with the result and progress lines, or the error's status. */
async function finish(reply: FastifyReply, stream: AsyncIterable<Progress>): Promise<FastifyReply> {
  const r = await collect(stream);
  if (r.error) return sendError(reply, r.error, { progress: r.progress });
  return reply.send({ result: r.data, progress: r.progress });
}

/** What the control routes need. */
export interface ControlDeps {
  readonly core: OperatorApi;
  readonly components: readonly ComponentInfo[];
  /** What every prepare's run configuration must record besides the operator's input (live ROIs). */
  readonly runExtras: () => { dashboard?: unknown; components?: Record<string, Record<string, unknown>> };
}

/**
 * Registers the control API. Commands: `POST /api/run/:command` with `{reason}` (prepare: `{plan, components,
 * reason}` merged into the current run configuration). Reads: `/api/status`, `/api/components`, `/api/runs`,
 * `/api/runs/:run`, `/api/logs?last=&level=`. Actions: `POST /api/components/:name/actions/:action`.
 */
export function registerControlRoutes(app: FastifyInstance, deps: ControlDeps): void {
  const { core } = deps;

  app.get("/api/status", async () => ({ ...(await core.status()), now: Date.now() / 1000 }));
  app.get("/api/components", async () => (await core.status()).components);
  app.get("/api/runs", async () => core.runs());
  app.get("/api/runs/:run", async (req, reply) => {
    const n = Number((req.params as { run: string }).run);
    const entry = (await core.runs()).find((r) => r.run === n);
    if (!entry)
      return sendError(reply, new HutchError(ErrorCode.Validation, `no run ${n} in the catalog`)).code(404);
    return entry;
  });
  app.get("/api/logs", async (req, reply) => {
    const q = req.query as { last?: string; level?: string };
    const last = q.last === undefined ? 200 : Number(q.last);
    if (!Number.isInteger(last) || last < 1 || last > 10_000) {
      return sendError(
        reply,
        new HutchError(ErrorCode.Validation, `last: expected an integer in 1..10000, got '${q.last}'`),
      );
    }
    const level = (q.level ?? "debug") as LogLevel;
    if (!LOG_LEVELS.includes(level)) {
      return sendError(
        reply,
        new HutchError(
          ErrorCode.Validation,
          `level: expected one of ${LOG_LEVELS.join(", ")}, got '${q.level}'`,
        ),
      );
    }
    const min = LOG_LEVELS.indexOf(level);
    return (await core.logs({ last })).filter((l) => LOG_LEVELS.indexOf(l.level) >= min);
  });

  app.post("/api/run/:command", async (req, reply) => {
    try {
      const command = parseCommand((req.params as { command: string }).command);
      let params: Record<string, unknown>;
      if (command === "prepare" || command === "start") {
        const body = parseBody(PrepareBody, req.body, command);
        checkOverrides(body, deps.components);
        const status = await core.status();
        const extras = deps.runExtras();
        // Prepare (and start from STOP, which prepares first) records the current run configuration with the
        // dashboard's extras (live ROIs) and the given plan and overrides. A start from READY keeps what
        // prepare armed, unless ROIs changed since: then it re-arms first so the run records them.
        const params0 = {
          ...status.config,
          ...(extras.dashboard ? { dashboard: extras.dashboard } : {}),
          ...(body.plan ? { plan: body.plan } : {}),
          components: mergeOverrides(
            status.config.components,
            extras.components ?? {},
            body.components ?? {},
          ),
          ...(body.reason ? { reason: body.reason } : {}),
        };
        const rearm = command === "start" && status.state === "READY" && !recorded(status.config, params0);
        const fresh = command === "prepare" || status.state === "STOP" || rearm;
        params = fresh ? params0 : body.reason ? { reason: body.reason } : {};
        if (rearm) {
          const armed = await collect(core.command("prepare", params));
          if (armed.error) return sendError(reply, armed.error, { progress: armed.progress });
        }
      } else {
        params = parseBody(CommandBody, req.body, command);
      }
      return await finish(reply, core.command(command, params));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.post("/api/components/:name/actions/:action", async (req, reply) => {
    try {
      const { name, action } = req.params as { name: string; action: string };
      const body = parseBody(ActionBody, req.body, `${name}.${action}`);
      return await finish(
        reply,
        core.call(name, action, body.params ?? {}, body.timeoutMs ? { timeoutMs: body.timeoutMs } : {}),
      );
    } catch (err) {
      return sendError(reply, err);
    }
  });
}

/** Per-component overrides merged key by key: later sources win for the keys they give. */
function mergeOverrides(
  current: unknown,
  ...more: Record<string, Record<string, unknown>>[]
): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const src of [
    current && typeof current === "object" ? (current as Record<string, Record<string, unknown>>) : {},
    ...more,
  ]) {
    for (const [name, o] of Object.entries(src)) out[name] = { ...(out[name] ?? {}), ...o };
  }
  return out;
}

/** True when the armed configuration already holds everything `wanted` holds (no re-arm needed). */
function recorded(armed: Record<string, unknown>, wanted: Record<string, unknown>): boolean {
  const norm = (c: Record<string, unknown>) => {
    const { reason: _r, ...rest } = c;
    return JSON.stringify(sortKeys({ ...rest, components: rest.components ?? {} }));
  };
  return norm(armed) === norm(wanted);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!v || typeof v !== "object") return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
}
