// The relay's detector side: the detector host's agent dials in; arms go to it, replies and run notices come back.
import { createServer, type Server, type Socket } from "node:net";
import type { ArmMessage } from "../codecs/index.js";
import { ErrorCode, HutchError, toHutchError, type Logger } from "../core/index.js";
import { LinkFramer, encodeLinkMessage } from "./link-framing.js";
import { hostPort } from "./tcp-forward.js";
import { tokenMatches, type RelayStats } from "./relay-stats.js";

/** What the agent reports when a run it started has ended (MEC: `copy_dir` or "Did not receive all expected frames!"). */
export interface RunNotice {
  readonly t: "notice";
  readonly run: number;
  readonly exitStatus: string;
  readonly reason: string;
  readonly files?: readonly string[];
}

/** Options of the hub. */
export interface DetectorHubOptions {
  readonly listen: string;
  readonly token?: string;
  /** The agent is dropped after this long without a message (it pings every second). */
  readonly lostAfterMs: number;
  readonly log: Logger;
  readonly stats: RelayStats;
  readonly onNotice?: (n: RunNotice, agent: string) => void;
}

interface Agent {
  readonly socket: Socket;
  readonly name: string;
  lastMs: number;
  readonly pending: Map<number, (r: { ok: boolean; reason?: string; run?: number }) => void>;
}

/**
 * Accepts the detector-side agent (one at a time: a new one replaces the old), checks its token, and passes it arm
 * messages one request id each. An agent that disconnects, crashes or falls silent fails its pending arms at once
 * with the reason; the relay never waits on it beyond the arm timeout.
 */
export class DetectorHub {
  private agent: Agent | undefined;
  private nextId = 1;
  private readonly timer: NodeJS.Timeout;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly o: DetectorHubOptions,
    private readonly server: Server,
  ) {
    server.on("connection", (s) => this.accept(s));
    this.timer = setInterval(() => this.check(), Math.max(50, o.lostAfterMs / 4));
    this.timer.unref?.();
  }

  /** Listens for agents. */
  static async open(o: DetectorHubOptions): Promise<DetectorHub> {
    const [host, port] = hostPort(o.listen);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err) =>
        reject(
          new HutchError(ErrorCode.Io, `relay detector side: cannot listen on ${o.listen}: ${err.message}`),
        ),
      );
      server.listen(port, host, () => resolve());
    });
    return new DetectorHub(o, server);
  }

  /** The address agents connect to. */
  get address(): string {
    const a = this.server.address();
    return typeof a === "object" && a ? `${a.address}:${a.port}` : this.o.listen;
  }

  /** The connected agent's name, if any. */
  get agentName(): string | undefined {
    return this.agent?.name;
  }

  /** Sends an arm to the agent; resolves with its answer, or a refusal when there is none, it is lost, or it is late. */
  async arm(
    arm: ArmMessage,
    timeoutMs: number,
  ): Promise<{ ok: true; run?: number } | { ok: false; reason: string }> {
    const a = this.agent;
    if (!a) return { ok: false, reason: "no detector side connected to the relay" };
    const id = this.nextId++;
    const r = await new Promise<{ ok: boolean; reason?: string; run?: number }>((resolve) => {
      const t = setTimeout(() => {
        a.pending.delete(id);
        resolve({ ok: false, reason: `detector side '${a.name}' did not answer within ${timeoutMs} ms` });
      }, timeoutMs);
      a.pending.set(id, (x) => {
        clearTimeout(t);
        resolve(x);
      });
      a.socket.write(encodeLinkMessage({ t: "arm", id, arm }));
    });
    return r.ok
      ? { ok: true, ...(typeof r.run === "number" ? { run: r.run } : {}) }
      : { ok: false, reason: r.reason ?? "refused without a reason" };
  }

  private accept(s: Socket): void {
    this.sockets.add(s);
    const framer = new LinkFramer();
    let agent: Agent | undefined;
    const peer = `${s.remoteAddress}:${s.remotePort}`;
    s.on("data", (chunk) => {
      let msgs: unknown[];
      try {
        msgs = framer.push(chunk);
      } catch (err) {
        this.o.log.warn(`detector side ${peer}: ${toHutchError(err).message}; disconnecting`);
        s.destroy();
        return;
      }
      for (const m of msgs) this.onMessage(s, peer, m as Record<string, unknown>, agent, (a) => (agent = a));
    });
    s.on("error", () => undefined);
    s.on("close", () => {
      this.sockets.delete(s);
      if (agent && this.agent === agent) this.drop(agent, `detector side '${agent.name}' disconnected`);
    });
  }

  private onMessage(
    s: Socket,
    peer: string,
    m: Record<string, unknown>,
    agent: Agent | undefined,
    set: (a: Agent) => void,
  ): void {
    if (!agent) {
      if (m.t !== "hello") return void s.destroy();
      if (this.o.token !== undefined && !tokenMatches(this.o.token, m.token)) {
        this.o.stats.unauthorised++;
        this.o.log.warn(`detector side ${peer}: refused: bad or missing token`);
        s.end(encodeLinkMessage({ t: "refused", reason: "unauthorised: wrong or missing token" }));
        return;
      }
      const a: Agent = { socket: s, name: String(m.name ?? peer), lastMs: Date.now(), pending: new Map() };
      if (this.agent) {
        this.drop(this.agent, `detector side replaced by a new connection from ${peer}`);
      }
      this.agent = a;
      set(a);
      this.o.stats.agent_connections++;
      s.write(encodeLinkMessage({ t: "welcome" }));
      this.o.log.info(`detector side '${a.name}' connected from ${peer}`);
      return;
    }
    agent.lastMs = Date.now();
    if (m.t === "ping") s.write(encodeLinkMessage({ t: "pong" }));
    else if (m.t === "arm-result" && typeof m.id === "number") {
      agent.pending.get(m.id)?.(m as { ok: boolean; reason?: string; run?: number });
      agent.pending.delete(m.id);
    } else if (m.t === "notice") {
      this.o.stats.notices++;
      this.o.onNotice?.(m as unknown as RunNotice, agent.name);
    }
  }

  private drop(a: Agent, why: string): void {
    if (this.agent === a) this.agent = undefined;
    for (const resolve of a.pending.values()) resolve({ ok: false, reason: why });
    a.pending.clear();
    a.socket.destroy();
    this.o.log.warn(why);
  }

  private check(): void {
    const a = this.agent;
    if (a && Date.now() - a.lastMs > this.o.lostAfterMs) {
      this.o.stats.agent_lost++;
      this.drop(a, `detector side '${a.name}' lost: silent for ${this.o.lostAfterMs} ms`);
    }
  }

  /** Closes the listener and every connection. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    if (this.agent) this.drop(this.agent, "relay closing");
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
