// Serves a RunControl over ZeroMQ: components register on the control socket, operators call it there.
import { ErrorCode, toHutchError, type Command } from "../core/index.js";
import type { ComponentToCore, CoreToComponent, Link, OperatorRequest } from "../component/index.js";
import { ControlServer } from "../transport/index.js";
import type { OperatorApi, Progress } from "./api-types.js";

/** Something that accepts component connections (the RunControl). */
export interface ComponentAcceptor {
  attach(link: Link<CoreToComponent, ComponentToCore>): void;
}

/**
 * Binds the control socket. A peer whose first message is `hello` becomes a component link; `op` messages are
 * operator requests answered with `reply` messages carrying the request id (progress..., result | error).
 */
export async function serveControl(
  address: string,
  core: OperatorApi & ComponentAcceptor,
  onProblem: (why: string) => void = () => undefined,
): Promise<ControlServer> {
  const server = await ControlServer.bind(address, onProblem);
  const links = new Map<string, (m: ComponentToCore) => void>();
  server.onMessage((peer, raw) => {
    const m = raw as { t: string };
    if (m.t === "op") {
      void answer(server, peer, raw as unknown as OperatorRequest, core);
      return;
    }
    let deliver = links.get(peer);
    if (!deliver) {
      let handler: (msg: ComponentToCore) => void = () => undefined;
      const link: Link<CoreToComponent, ComponentToCore> = {
        send: (out) => server.send(peer, out),
        onMessage: (fn) => {
          handler = fn;
        },
        close: () => links.delete(peer),
      };
      deliver = (msg) => handler(msg);
      links.set(peer, deliver);
      core.attach(link);
    }
    deliver(m as ComponentToCore);
  });
  return server;
}

async function answer(
  server: ControlServer,
  peer: string,
  req: OperatorRequest,
  core: OperatorApi,
): Promise<void> {
  const send = (p: Progress) => server.send(peer, { t: "reply", id: req.id, ...p });
  try {
    switch (req.op) {
      case "command":
        for await (const p of core.command(req.command as Command, req.params ?? {}, timeout(req.timeoutMs)))
          send(p);
        return;
      case "call":
        for await (const p of core.call(req.component, req.action, req.params, timeout(req.timeoutMs)))
          send(p);
        return;
      case "replay":
        for await (const p of core.replay(req.files, {
          ...(req.speed !== undefined ? { speed: req.speed } : {}),
          ...timeout(req.timeoutMs),
        }))
          send(p);
        return;
      case "status":
        return send({ type: "result", data: await core.status() });
      case "runs":
        return send({ type: "result", data: await core.runs() });
      case "logs":
        return send({
          type: "result",
          data: await core.logs(req.last === undefined ? {} : { last: req.last }),
        });
      default:
        return send({
          type: "error",
          code: ErrorCode.Validation,
          message: `unknown operator request '${String((req as { op?: unknown }).op)}'`,
        });
    }
  } catch (err) {
    const e = toHutchError(err);
    send({ type: "error", code: e.code, message: e.message });
  }
}

const timeout = (ms: number | undefined) => (ms === undefined ? {} : { timeoutMs: ms });
