// The TypeScript online-access client: the newest N tags of named fields, and the status, from another process.
import { Dealer } from "zeromq";
import { ErrorCode, HutchError } from "../../core/index.js";
import type { OnlineStatus } from "./online-access.js";
import {
  decodeReply,
  encodeRequest,
  type NewestResult,
  type OnlineReply,
  type OnlineRequest,
} from "./online-protocol.js";

const EMPTY = Buffer.alloc(0);

/**
 * Talks to an `online-access` component's `serve` address. Every call ends: with the answer, an error reply
 * turned into a HutchError with the server's code, or HUTCH_ERR_TIMEOUT after `timeoutMs` (a late answer to
 * a call that timed out is recognised by its id and dropped). Calls are sent one at a time.
 * @example
 * const oa = await OnlineAccessClient.connect("tcp://127.0.0.1:5579");
 * const { tags, values } = await oa.newest(120, ["i0", "roi1"]);
 * oa.close();
 */
export class OnlineAccessClient {
  private nextId = 1;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dealer: Dealer,
    readonly address: string,
    readonly timeoutMs: number,
  ) {}

  /** Connects (ZeroMQ connects lazily: a server that is not up yet is waited for, within each call's timeout). */
  static async connect(address: string, opts: { timeoutMs?: number } = {}): Promise<OnlineAccessClient> {
    const dealer = new Dealer({ linger: 0 });
    try {
      dealer.connect(address);
    } catch (cause) {
      dealer.close();
      throw new HutchError(ErrorCode.Io, `online access: cannot connect to '${address}'`, { cause });
    }
    return new OnlineAccessClient(dealer, address, opts.timeoutMs ?? 5000);
  }

  /** The newest `n` tags of `names` (bare field names or `stream.field`), oldest first; NaN where missing. */
  async newest(n: number, names: readonly string[]): Promise<NewestResult> {
    const r = await this.call({ op: "newest", n, names: [...names] });
    return (r as Extract<OnlineReply, { op: "newest" }>).result;
  }

  /** What online access holds and every problem it knows of. */
  async status(): Promise<OnlineStatus> {
    const r = await this.call({ op: "status" });
    return (r as Extract<OnlineReply, { op: "status" }>).result;
  }

  /** Every field that can be asked for (`stream.field`). */
  async names(): Promise<string[]> {
    const r = await this.call({ op: "names" });
    return (r as Extract<OnlineReply, { op: "names" }>).result;
  }

  close(): void {
    this.dealer.close();
  }

  private call(req: OnlineRequest): Promise<OnlineReply> {
    const run = this.chain.then(() => this.exchange(req));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async exchange(req: OnlineRequest): Promise<OnlineReply> {
    const id = this.nextId++;
    await this.dealer.send([EMPTY, encodeRequest({ ...req, id })]);
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      this.dealer.receiveTimeout = left;
      let frames: Buffer[];
      try {
        frames = await this.dealer.receive();
      } catch (err) {
        if ((err as { code?: string }).code === "EAGAIN") break;
        throw new HutchError(ErrorCode.Io, `online access ${this.address}: receive failed`, { cause: err });
      }
      const reply = decodeReply(frames[0]?.length === 0 ? frames.slice(1) : frames);
      if (reply.id !== id) continue; // a late answer to an earlier call
      if (!reply.ok) {
        const code = Object.values(ErrorCode).includes(reply.error.code as ErrorCode)
          ? (reply.error.code as ErrorCode)
          : ErrorCode.Internal;
        throw new HutchError(code, reply.error.message);
      }
      return reply;
    }
    throw new HutchError(
      ErrorCode.Timeout,
      `online access ${this.address}: no answer to '${req.op}' within ${this.timeoutMs} ms (is online-access serving there?)`,
    );
  }
}
