// Control-plane sockets: a ROUTER server and DEALER clients exchanging msgpack maps (components, operators, core).
import { Decoder, Encoder } from "@msgpack/msgpack";
import { Dealer, Router } from "zeromq";
import { ErrorCode, HutchError, RateLimiter } from "../core/index.js";
import { bindWithRetry } from "./zmq-endpoint.js";

const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });
const decoder = new Decoder();

/** Serialises sends on a zeromq socket (zeromq.js refuses a send while another is in flight). */
class SendChain {
  private tail: Promise<void> = Promise.resolve();
  errors = 0;
  constructor(private readonly sock: { send(frames: Buffer[]): Promise<void> }) {}
  send(frames: Buffer[]): void {
    this.tail = this.tail
      .then(() => this.sock.send(frames))
      .catch(() => {
        this.errors++;
      });
  }
  flushed(): Promise<void> {
    return this.tail;
  }
}

const pack = (m: unknown): Buffer => {
  const b = encoder.encode(m);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
};

/**
 * The core's control socket: a ROUTER bound at `address`. Each peer (component or operator client) is a routing
 * id; undecodable messages are counted in `invalid` and skipped.
 */
export class ControlServer {
  private readonly sock = new Router({ linger: 0 });
  private readonly out = new SendChain(this.sock);
  private handler: (peer: string, msg: Record<string, unknown>) => void = () => undefined;
  invalid = 0;
  private readonly limiter = new RateLimiter(5, 10_000);
  private constructor(readonly address: string) {}

  /** Binds and starts receiving. Throws HUTCH_ERR_IO naming the address when it cannot bind. */
  static async bind(address: string, onInvalid?: (why: string) => void): Promise<ControlServer> {
    const s = new ControlServer(address);
    try {
      await bindWithRetry(s.sock, address);
    } catch (cause) {
      s.sock.close();
      throw new HutchError(
        ErrorCode.Io,
        `cannot bind the control socket at ${address} (in use by another core?)`,
        { cause },
      );
    }
    void s.loop(onInvalid);
    return s;
  }

  onMessage(fn: (peer: string, msg: Record<string, unknown>) => void): void {
    this.handler = fn;
  }

  send(peer: string, msg: unknown): void {
    this.out.send([Buffer.from(peer, "hex"), pack(msg)]);
  }

  private async loop(onInvalid?: (why: string) => void): Promise<void> {
    try {
      for await (const [id, body] of this.sock) {
        let msg: unknown;
        try {
          if (!id || !body) throw new Error("expected [identity, body]");
          msg = decoder.decode(body);
          if (typeof msg !== "object" || msg === null || typeof (msg as { t?: unknown }).t !== "string") {
            throw new Error("body is not a map with a string 't'");
          }
        } catch (e) {
          this.invalid++;
          if (this.limiter.take()) onInvalid?.(`control socket: rejected a message: ${(e as Error).message}`);
          continue;
        }
        this.handler(id.toString("hex"), msg as Record<string, unknown>);
      }
    } catch (e) {
      if (!this.sock.closed) onInvalid?.(`control socket stopped: ${(e as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await Promise.race([this.out.flushed(), new Promise((r) => setTimeout(r, 200))]);
    this.sock.close();
  }
}

/** A DEALER connected to the core's control socket. */
export class ControlClient {
  private readonly sock = new Dealer({ linger: 0 });
  private readonly out = new SendChain(this.sock);
  private handler: (msg: Record<string, unknown>) => void = () => undefined;
  invalid = 0;

  constructor(readonly address: string) {
    this.sock.connect(address);
    void this.loop();
  }

  onMessage(fn: (msg: Record<string, unknown>) => void): void {
    this.handler = fn;
  }

  send(msg: unknown): void {
    if (!this.sock.closed) this.out.send([pack(msg)]);
  }

  private async loop(): Promise<void> {
    try {
      for await (const [body] of this.sock) {
        let msg: unknown;
        try {
          msg = decoder.decode(body!);
        } catch {
          this.invalid++;
          continue;
        }
        if (typeof msg === "object" && msg !== null) this.handler(msg as Record<string, unknown>);
      }
    } catch {
      /* socket closed: the loop ends */
    }
  }

  async close(): Promise<void> {
    await Promise.race([this.out.flushed(), new Promise((r) => setTimeout(r, 200))]);
    this.sock.close();
  }
}
