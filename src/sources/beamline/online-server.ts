// Serves online access over ZeroMQ (ROUTER): TypeScript and Python clients ask for the newest tags and the status.
import { Router } from "zeromq";
import { ErrorCode, HutchError, toHutchError } from "../../core/index.js";
import type { OnlineAccess } from "./online-access.js";
import { decodeRequest, encodeReply, type OnlineReply } from "./online-protocol.js";

/**
 * A ROUTER socket answering online-access requests, one at a time (each takes well under a millisecond for
 * 2000 tags). Clients are DEALER sockets (`OnlineAccessClient`, `examples/python/online_access.py`) or REQ;
 * a REQ-style empty delimiter frame is kept in the reply. A malformed request gets an error reply, never a
 * crash. `close()` ends the loop.
 * @example const srv = await OnlineServer.open(access, "tcp://127.0.0.1:5579", "sacla"); ...; await srv.close();
 */
export class OnlineServer {
  /** Requests answered, and of those, how many were errors. */
  readonly stats = { requests: 0, errors: 0 };
  private loop: Promise<void> = Promise.resolve();

  private constructor(
    private readonly router: Router,
    private readonly access: OnlineAccess,
    private readonly instrument: string,
    /** The bound address (a port 0 resolved). */
    readonly endpoint: string,
  ) {}

  /** Binds the ROUTER at `address` and starts answering. Throws HUTCH_ERR_IO naming the address. */
  static async open(access: OnlineAccess, address: string, instrument: string): Promise<OnlineServer> {
    const router = new Router({ linger: 0 });
    try {
      await router.bind(address);
    } catch (cause) {
      router.close();
      throw new HutchError(
        ErrorCode.Io,
        `online access: cannot bind '${address}': ${(cause as Error).message} (is the port in use?)`,
        { cause },
      );
    }
    const srv = new OnlineServer(router, access, instrument, router.lastEndpoint ?? address);
    srv.loop = srv.serve();
    return srv;
  }

  /** The answer to one request (also used in-process by the component's actions). */
  answer(frame: Uint8Array): OnlineReply {
    let id: number | undefined;
    try {
      const req = decodeRequest(frame);
      id = req.id;
      if (req.op === "status") return { id, ok: true, op: "status", result: this.access.status() };
      if (req.op === "names") return { id, ok: true, op: "names", result: this.access.names() };
      const r = this.access.newest(req.n, req.names);
      return { id, ok: true, op: "newest", result: { tags: r.tags, values: r.values, columns: r.names } };
    } catch (err) {
      const e = toHutchError(err);
      return { id, ok: false, error: { code: e.code, message: e.message } };
    }
  }

  private async serve(): Promise<void> {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await this.router.receive();
      } catch {
        return; // closed
      }
      const [identity, ...rest] = frames;
      if (!identity || rest.length === 0) continue;
      const envelope = rest.length > 1 && rest[0]!.length === 0 ? [identity, rest[0]!] : [identity];
      const reply = this.answer(rest[rest.length - 1]!);
      this.stats.requests++;
      if (!reply.ok) this.stats.errors++;
      try {
        await this.router.send([...envelope, ...encodeReply(this.instrument, reply)]);
      } catch {
        if (this.router.closed) return;
        this.stats.errors++; // the client went away: nothing to tell it
      }
    }
  }

  async close(): Promise<void> {
    this.router.close();
    await this.loop;
  }
}
