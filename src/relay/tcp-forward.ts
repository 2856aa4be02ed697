// A TCP port forward: listens on one network and connects each client to a target on the other (byte for byte).
import { createServer, Socket, type Server } from "node:net";
import { ErrorCode, HutchError, type Logger } from "../core/index.js";

/** One forward: clients connecting to `listen` reach `target`. */
export interface TcpForwardOptions {
  readonly name: string;
  /** `host:port` to listen on (port 0: any). */
  readonly listen: string;
  /** `host:port` to connect to for each client. */
  readonly target: string;
  /** Source address for connections to the target (choose the interface on the target's network). */
  readonly localAddress?: string;
  readonly maxConnections?: number;
  readonly log: Logger;
}

/** Counters of a forward. */
export interface TcpForwardStats {
  connections: number;
  open: number;
  refused: number;
  target_failures: number;
  bytes_in: number;
  bytes_out: number;
}

/**
 * Forwards whole TCP connections without reading them, so anything Hutch speaks over TCP crosses the relay:
 * ZeroMQ (control ROUTER, document XPUB), the dashboard's HTTP and WebSocket. Either side closing or failing
 * closes the other; a failed target never blocks the listener.
 * @example const f = await TcpForward.open({ name: "bus", listen: "0.0.0.0:5552", target: "10.0.0.5:5552", log });
 */
export class TcpForward {
  readonly stats: TcpForwardStats = {
    connections: 0,
    open: 0,
    refused: 0,
    target_failures: 0,
    bytes_in: 0,
    bytes_out: 0,
  };
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly o: TcpForwardOptions,
    private readonly server: Server,
  ) {
    server.on("connection", (c) => this.accept(c));
  }

  /** Starts listening; rejects with HUTCH_ERR_IO naming the address when it cannot. */
  static async open(o: TcpForwardOptions): Promise<TcpForward> {
    const [host, port] = hostPort(o.listen);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err) =>
        reject(
          new HutchError(ErrorCode.Io, `forward '${o.name}': cannot listen on ${o.listen}: ${err.message}`),
        ),
      );
      server.listen(port, host, () => resolve());
    });
    return new TcpForward(o, server);
  }

  /** The forward's name (from the options). */
  get name(): string {
    return this.o.name;
  }

  /** The address it listens on. */
  get address(): string {
    const a = this.server.address();
    return typeof a === "object" && a ? `${a.address}:${a.port}` : this.o.listen;
  }

  private accept(client: Socket): void {
    if (this.o.maxConnections !== undefined && this.stats.open >= this.o.maxConnections) {
      this.stats.refused++;
      client.destroy();
      return;
    }
    this.stats.connections++;
    this.stats.open++;
    const [host, port] = hostPort(this.o.target);
    const target = new Socket();
    this.sockets.add(client).add(target);
    let closed = false;
    let connected = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.stats.open--;
      client.destroy();
      target.destroy();
      this.sockets.delete(client);
      this.sockets.delete(target);
    };
    client.on("error", close);
    target.on("error", (err) => {
      if (!connected) {
        this.stats.target_failures++;
        this.o.log.warn(`forward '${this.o.name}': cannot reach ${this.o.target}: ${err.message}`);
      }
      close();
    });
    client.on("close", close);
    target.on("close", close);
    client.on("data", (b) => (this.stats.bytes_in += b.length));
    target.on("data", (b) => (this.stats.bytes_out += b.length));
    target.connect(
      { host, port, ...(this.o.localAddress ? { localAddress: this.o.localAddress } : {}) },
      () => {
        connected = true;
        client.pipe(target);
        target.pipe(client);
        client.resume();
      },
    );
    client.pause(); // nothing is read from the client until the target is there
  }

  /** Stops listening and closes every forwarded connection. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Splits `host:port`. */
export function hostPort(address: string): [string, number] {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) throw new HutchError(ErrorCode.Config, `'${address}' is not host:port`);
  return [m[1]!, Number(m[2])];
}
