// The relay between two networks: DAQ arm messages in, to the detector side's agent, and TCP forwards of Hutch traffic.
import { createServer, type Server, type Socket } from "node:net";
import { z } from "zod";
import { ErrorCode, HutchError, type Logger } from "../core/index.js";
import { DaqSession } from "./daq-session.js";
import { DetectorHub, type RunNotice } from "./detector-hub.js";
import { relayStats, type RelayStats } from "./relay-stats.js";
import { TcpForward, hostPort } from "./tcp-forward.js";

const HostPort = z.string().regex(/^\[?[^\]\s]+\]?:\d{1,5}$/, "HOST:PORT, e.g. 0.0.0.0:8089");

/** Options of the relay (`hutch relay`); ports default to the MEC relay's. */
export const RelayOptionsSchema = z.strictObject({
  /** Where the DAQ connects (MEC: TCP 8089), on the DAQ's network. */
  daq: HostPort.default("0.0.0.0:8089"),
  /** Where the detector host's agent connects (MEC: TCP 5678), on the detector's network. */
  detector: HostPort.default("0.0.0.0:5678"),
  /** Shared token: DAQ messages carry `"token"`, the agent sends it in its hello. */
  token: z.string().min(8).optional(),
  /** Hutch traffic carried across: e.g. the core's control and publish sockets, the dashboard. */
  forwards: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        listen: HostPort,
        target: HostPort,
        localAddress: z.string().optional(),
      }),
    )
    .default([]),
  /** How long an arm may take on the detector side (prepare and start of every detector). */
  armTimeoutMs: z.number().int().positive().default(30_000),
  messageTimeoutMs: z.number().int().positive().default(5_000),
  maxMessageBytes: z
    .number()
    .int()
    .min(256)
    .default(64 * 1024),
  maxDaqClients: z.number().int().positive().default(64),
  agentLostAfterMs: z.number().int().positive().default(3_000),
});
/** Relay options as given. */
export type RelayOptionsInput = z.input<typeof RelayOptionsSchema>;

/**
 * The relay that ran on psmeclogin, rebuilt: the DAQ and the detector host sit on networks that cannot reach each
 * other; both reach the relay. DAQ clients (many at once) send arm messages, each answered OK or NOT OK with the
 * reason; the detector side's agent dials in and runs them through run control; TCP forwards carry Hutch's
 * control and document traffic (and the dashboard) to the DAQ's network. Nothing one client does blocks another.
 * @example const relay = await RelayServer.open({ daq: "0.0.0.0:8089", detector: "0.0.0.0:5678" }, log);
 */
export class RelayServer {
  readonly stats: RelayStats = relayStats();
  readonly forwards: TcpForward[] = [];
  private hub!: DetectorHub;
  private readonly sockets = new Set<Socket>();
  private daqServer!: Server;

  private constructor(
    readonly options: z.output<typeof RelayOptionsSchema>,
    private readonly log: Logger,
    private readonly onNotice?: (n: RunNotice, agent: string) => void,
  ) {}

  /** Opens every listener; on failure closes what was opened and rejects naming the address. */
  static async open(
    input: RelayOptionsInput,
    log: Logger,
    onNotice?: (n: RunNotice, agent: string) => void,
  ): Promise<RelayServer> {
    const parsed = RelayOptionsSchema.safeParse(input);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new HutchError(ErrorCode.Config, `relay: ${i.path.join(".")}: ${i.message}`);
    }
    const r = new RelayServer(parsed.data, log, onNotice);
    try {
      await r.start();
    } catch (err) {
      await r.close();
      throw err;
    }
    return r;
  }

  private async start(): Promise<void> {
    const o = this.options;
    this.hub = await DetectorHub.open({
      listen: o.detector,
      ...(o.token ? { token: o.token } : {}),
      lostAfterMs: o.agentLostAfterMs,
      log: this.log,
      stats: this.stats,
      onNotice: (n, agent) => {
        this.log[n.exitStatus === "success" ? "info" : "warn"](
          `detector side '${agent}': run ${n.run} ended (${n.exitStatus}): ${n.reason}`,
        );
        this.onNotice?.(n, agent);
      },
    });
    const [host, port] = hostPort(o.daq);
    this.daqServer = createServer((s) => this.acceptDaq(s));
    await new Promise<void>((resolve, reject) => {
      this.daqServer.once("error", (err) =>
        reject(new HutchError(ErrorCode.Io, `relay DAQ side: cannot listen on ${o.daq}: ${err.message}`)),
      );
      this.daqServer.listen(port, host, () => resolve());
    });
    for (const f of o.forwards) this.forwards.push(await TcpForward.open({ ...f, log: this.log }));
  }

  /** Where the DAQ connects. */
  get daqAddress(): string {
    const a = this.daqServer.address();
    return typeof a === "object" && a ? `${a.address}:${a.port}` : this.options.daq;
  }

  /** Where the detector side's agent connects. */
  get detectorAddress(): string {
    return this.hub.address;
  }

  /** Name of the connected agent, if any. */
  get agent(): string | undefined {
    return this.hub.agentName;
  }

  private acceptDaq(s: Socket): void {
    if (this.stats.daq_open >= this.options.maxDaqClients) {
      s.end("NOT OK: relay busy: too many DAQ connections\n");
      return;
    }
    this.stats.daq_connections++;
    this.stats.daq_open++;
    this.sockets.add(s);
    s.on("close", () => {
      this.stats.daq_open--;
      this.sockets.delete(s);
    });
    new DaqSession(s, {
      ...(this.options.token ? { token: this.options.token } : {}),
      messageTimeoutMs: this.options.messageTimeoutMs,
      maxMessageBytes: this.options.maxMessageBytes,
      arm: (arm) => this.hub.arm(arm, this.options.armTimeoutMs),
      log: this.log,
      stats: this.stats,
    });
  }

  /** All counters, the forwards' prefixed with their name. */
  metrics(): Record<string, number> {
    const m: Record<string, number> = { ...this.stats, agent_connected: this.hub?.agentName ? 1 : 0 };
    for (const f of this.forwards) {
      for (const [k, v] of Object.entries(f.stats)) m[`forward_${f.name}_${k}`] = v;
    }
    return m;
  }

  /** Closes every listener and connection. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.daqServer?.listening) await new Promise<void>((r) => this.daqServer.close(() => r()));
    await this.hub?.close();
    for (const f of this.forwards) await f.close();
  }
}
