// The operator client: connect(address) gives an OperatorApi over ZeroMQ whose every call ends (result, error, timeout).
import { BoundedQueue, ErrorCode, type Command, type Log } from "../core/index.js";
import { ControlClient } from "../transport/index.js";
import type { CallOptions, CatalogEntry, OperatorApi, Progress, SystemStatus } from "./api-types.js";
import { DEFAULT_CALL_TIMEOUT_MS, resultOf } from "./progress.js";

/** An operator connection; `close()` when done. */
export interface OperatorClient extends OperatorApi {
  close(): Promise<void>;
}

/**
 * Connects to a core's control address. Each request has its own id; replies to other ids (late answers to
 * calls that already timed out) are ignored, so a late reply is never mistaken for the next.
 * @example
 * const op = connect("tcp://127.0.0.1:5551");
 * for await (const p of op.command("start")) console.log(p);
 * await op.close();
 */
export function connect(address: string): OperatorClient {
  const client = new ControlClient(address);
  const pending = new Map<number, BoundedQueue<Progress>>();
  let nextId = 1;
  client.onMessage((m) => {
    const r = m as { t?: string; id?: number } & Progress;
    if (r.t !== "reply" || typeof r.id !== "number") return;
    const q = pending.get(r.id);
    if (!q) return;
    const p: Progress =
      r.type === "error"
        ? { type: "error", code: r.code, message: r.message }
        : r.type === "result"
          ? { type: "result", data: r.data }
          : { type: "progress", message: r.message, data: r.data };
    q.push(p);
    if (p.type !== "progress") {
      pending.delete(r.id);
      q.close();
    }
  });

  const request = (
    body: Record<string, unknown>,
    opts: CallOptions,
    what: string,
  ): AsyncIterable<Progress> => {
    const id = nextId++;
    // The client's own deadline is a little longer than the one the core enforces, so the core's answer wins.
    const timeoutMs = (opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS) + 500;
    const q = new BoundedQueue<Progress>({ capacity: 10_000, overflow: "drop-oldest", name: what });
    pending.set(id, q);
    const finish = (p: Progress) => {
      if (!pending.has(id)) return;
      pending.delete(id);
      q.push(p);
      q.close();
    };
    const timer = setTimeout(
      () =>
        finish({
          type: "error",
          code: ErrorCode.Timeout,
          message: `${what}: no answer from the core at ${address} within ${timeoutMs} ms`,
        }),
      timeoutMs,
    );
    opts.signal?.addEventListener(
      "abort",
      () => finish({ type: "error", code: ErrorCode.Aborted, message: `${what}: aborted` }),
      { once: true },
    );
    void q.closed().then(() => clearTimeout(timer));
    client.send({
      t: "op",
      id,
      ...body,
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
    return q;
  };

  const ask = async <T>(
    op: string,
    opts: CallOptions = {},
    extra: Record<string, unknown> = {},
  ): Promise<T> => (await resultOf(request({ op, ...extra }, opts, op))) as T;

  return {
    command: (command: Command, params: Record<string, unknown> = {}, opts: CallOptions = {}) =>
      request({ op: "command", command, params }, { timeoutMs: 40_000, ...opts }, `run ${command}`),
    call: (component: string, action: string, params: unknown = {}, opts: CallOptions = {}) =>
      request({ op: "call", component, action, params }, opts, `${component}.${action}`),
    replay: (files: readonly string[], opts: CallOptions & { speed?: number } = {}) =>
      request(
        { op: "replay", files: [...files], ...(opts.speed !== undefined ? { speed: opts.speed } : {}) },
        { timeoutMs: 24 * 3600_000, ...opts },
        "replay",
      ),
    status: (opts?: CallOptions) => ask<SystemStatus>("status", opts),
    runs: (opts?: CallOptions) => ask<CatalogEntry[]>("runs", opts),
    logs: (opts: CallOptions & { last?: number } = {}) =>
      ask<Log[]>("logs", opts, opts.last === undefined ? {} : { last: opts.last }),
    close: async () => {
      for (const q of pending.values()) {
        q.push({ type: "error", code: ErrorCode.Closed, message: "operator client closed" });
        q.close();
      }
      pending.clear();
      await client.close();
    },
  };
}
