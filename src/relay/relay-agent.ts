// The detector side of the relay: dials the relay, takes its arm messages to run control, reports how runs ended.
import { Socket } from "node:net";
import { checkArmMessage, type ArmMessage } from "../codecs/index.js";
import { toHutchError, type Logger } from "../core/index.js";
import type { ArmOutcome } from "./arm-to-run.js";
import type { RunNotice } from "./detector-hub.js";
import { LinkFramer, encodeLinkMessage } from "./link-framing.js";
import { hostPort } from "./tcp-forward.js";

/** Options of the agent. */
export interface RelayAgentOptions {
  /** `host:port` of the relay's detector side. */
  readonly relay: string;
  /** Name shown by the relay. */
  readonly name: string;
  readonly token?: string;
  /** Runs an arm (e.g. `armToRun` against the core); arms are handed over one at a time. */
  readonly onArm: (arm: ArmMessage) => Promise<ArmOutcome>;
  readonly log: Logger;
  readonly reconnectMs?: number;
  readonly pingMs?: number;
}

/**
 * Keeps a connection to the relay (reconnecting after any drop, so the relay or this side may restart in any order),
 * answers its arm messages one at a time through `onArm`, and sends run notices. The relay drops an agent that stops
 * pinging, so a frozen detector host cannot hold the DAQ.
 * @example const agent = RelayAgent.open({ relay: "psmeclogin:5678", name: "varex-pc", onArm: (a) => armToRun(api, a, o), log });
 */
export class RelayAgent {
  private socket: Socket | undefined;
  private welcomed = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private ping: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly waiters = new Set<() => void>();
  /** Arms answered, by outcome. */
  readonly stats = { connections: 0, arms_ok: 0, arms_refused: 0, notices: 0 };

  private constructor(private readonly o: RelayAgentOptions) {}

  /** Starts connecting (in the background). */
  static open(o: RelayAgentOptions): RelayAgent {
    const a = new RelayAgent(o);
    a.connect();
    return a;
  }

  /** True while the relay has welcomed this agent. */
  get connected(): boolean {
    return this.welcomed;
  }

  /** Resolves once welcomed by the relay (rejects after `timeoutMs`). */
  async ready(timeoutMs: number): Promise<void> {
    if (this.welcomed) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(done);
        reject(new Error(`relay at ${this.o.relay} not reached within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => (clearTimeout(t), resolve());
      this.waiters.add(done);
    });
  }

  /** Reports how a run ended (dropped with a log line when the relay is not connected). */
  notify(n: Omit<RunNotice, "t">): void {
    if (!this.socket || !this.welcomed) {
      this.o.log.warn(`run ${n.run} ended (${n.exitStatus}) but the relay is not connected: notice not sent`);
      return;
    }
    this.stats.notices++;
    this.socket.write(encodeLinkMessage({ t: "notice", ...n }));
  }

  private connect(): void {
    if (this.closed) return;
    const [host, port] = hostPort(this.o.relay);
    const s = new Socket();
    this.socket = s;
    const framer = new LinkFramer();
    s.on("connect", () => {
      s.write(
        encodeLinkMessage({
          t: "hello",
          name: this.o.name,
          ...(this.o.token ? { token: this.o.token } : {}),
        }),
      );
      this.ping = setInterval(() => s.write(encodeLinkMessage({ t: "ping" })), this.o.pingMs ?? 1000);
      this.ping.unref?.();
    });
    s.on("data", (chunk) => {
      try {
        for (const m of framer.push(chunk)) this.onMessage(s, m as Record<string, unknown>);
      } catch (err) {
        this.o.log.warn(`relay link: ${toHutchError(err).message}; reconnecting`);
        s.destroy();
      }
    });
    s.on("error", (err) => this.o.log.debug(`relay link: ${err.message}`));
    s.on("close", () => {
      if (this.ping) clearInterval(this.ping);
      if (this.socket !== s) return;
      if (this.welcomed) this.o.log.warn(`relay at ${this.o.relay} disconnected; reconnecting`);
      this.welcomed = false;
      this.socket = undefined;
      if (!this.closed) {
        this.timer = setTimeout(() => this.connect(), this.o.reconnectMs ?? 1000);
        this.timer.unref?.();
      }
    });
    s.connect(port, host);
  }

  private onMessage(s: Socket, m: Record<string, unknown>): void {
    if (m.t === "welcome") {
      this.welcomed = true;
      this.stats.connections++;
      this.o.log.info(`connected to the relay at ${this.o.relay} as '${this.o.name}'`);
      for (const w of this.waiters) w();
      this.waiters.clear();
    } else if (m.t === "refused") {
      this.o.log.error(`the relay refused this agent: ${String(m.reason)}`);
    } else if (m.t === "arm" && typeof m.id === "number") {
      const id = m.id;
      this.chain = this.chain.then(async () => {
        const r = await this.handle(m.arm);
        if (r.ok) this.stats.arms_ok++;
        else this.stats.arms_refused++;
        if (!s.destroyed) s.write(encodeLinkMessage({ t: "arm-result", id, ...r }));
      });
    }
  }

  private async handle(raw: unknown): Promise<ArmOutcome> {
    const check = checkArmMessage(raw);
    if (!check.ok) return { ok: false, reason: check.reasons.join("; ") };
    try {
      return await this.o.onArm(check.arm);
    } catch (err) {
      return { ok: false, reason: toHutchError(err).message };
    }
  }

  /** Disconnects and stops reconnecting. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.ping) clearInterval(this.ping);
    const s = this.socket;
    this.socket = undefined;
    if (s && !s.destroyed) await new Promise<void>((r) => (s.once("close", () => r()), s.destroy()));
  }
}
