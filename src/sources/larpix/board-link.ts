// One LArPix data board over ZeroMQ: REQ commands (each with a deadline) and a SUB socket for its data messages.
import { Request, Subscriber } from "zeromq";
import { z } from "zod";
import { ErrorCode, HutchError, type Logger } from "../../core/index.js";

/** Where a board is and which io group its chips belong to. */
export const BoardSpecSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.', '-' only"),
  address: z
    .string()
    .regex(/^tcp:\/\/[^:/]+$/, "expected tcp://HOST without a port (the ports are commandPort and dataPort)")
    .default("tcp://127.0.0.1"),
  commandPort: z.number().int().min(1).max(65535).default(5555).describe("the board's REP socket"),
  dataPort: z.number().int().min(1).max(65535).default(5556).describe("the board's PUB socket"),
  ioGroup: z.number().int().min(0).max(255).default(1).describe("first part of the chip keys of this board"),
});
/** A board as the instrument file names it. */
export type BoardSpec = z.output<typeof BoardSpecSchema>;

/** Options of a link. */
export interface BoardLinkOptions {
  /** A command without a reply within this long fails with HUTCH_ERR_TIMEOUT. */
  readonly requestTimeoutMs: number;
  /** Every data message, in arrival order. */
  readonly onMessage: (msg: Buffer) => void;
  readonly log: Logger;
}

/**
 * Talks to one board as larpix-control's ZMQ IO does: `SNDWORD 0x00<hex> <io channel>`, `SYRESET`, `SETFREQ 0x..`,
 * `SETFTST 0x..`, `GETSTAT <io channel>`, `PING_HB` on a REQ socket to `commandPort`, and a SUB socket on
 * `dataPort`. Commands run one at a time; each ends with its reply or HUTCH_ERR_TIMEOUT (the socket is relaxed
 * and correlated, so a late reply is dropped, never taken for the next command's).
 * @example const link = await BoardLink.open(spec, { requestTimeoutMs: 1000, onMessage, log }); await link.request("PING_HB");
 */
export class BoardLink {
  /** `performance.now()` of the last reply or data message (the board is alive). */
  lastSeenMs = performance.now();
  /** Data messages received. */
  messages = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly loop: Promise<void>;

  private constructor(
    readonly spec: BoardSpec,
    private readonly opts: BoardLinkOptions,
    private readonly req: Request,
    private readonly sub: Subscriber,
  ) {
    this.loop = this.receive();
  }

  /** The command address `tcp://host:commandPort`. */
  get commandAddress(): string {
    return `${this.spec.address}:${this.spec.commandPort}`;
  }

  /** Connects both sockets (connecting never waits for the board; commands do). */
  static async open(spec: BoardSpec, opts: BoardLinkOptions): Promise<BoardLink> {
    const req = new Request({
      linger: 0,
      relaxed: true,
      correlate: true,
      sendTimeout: opts.requestTimeoutMs,
      receiveTimeout: opts.requestTimeoutMs,
    });
    const sub = new Subscriber({ linger: 0, receiveHighWaterMark: 200_000 });
    try {
      req.connect(`${spec.address}:${spec.commandPort}`);
      sub.connect(`${spec.address}:${spec.dataPort}`);
      sub.subscribe();
    } catch (cause) {
      req.close();
      sub.close();
      throw new HutchError(
        ErrorCode.Io,
        `board '${spec.name}': cannot connect to ${spec.address} ports ${spec.commandPort}/${spec.dataPort}: ${String(cause)}`,
        { cause },
      );
    }
    return new BoardLink(spec, opts, req, sub);
  }

  /**
   * Sends one command and resolves with the reply text; HUTCH_ERR_TIMEOUT names the board, the command and the
   * deadline, HUTCH_ERR_CLOSED after `close()`.
   */
  request(command: string, timeoutMs = this.opts.requestTimeoutMs): Promise<string> {
    const run = async (): Promise<string> => {
      if (this.closed) throw new HutchError(ErrorCode.Closed, `board '${this.spec.name}': link closed`);
      const what = command.split(" ")[0];
      try {
        this.req.sendTimeout = timeoutMs;
        this.req.receiveTimeout = timeoutMs;
        await this.req.send(command);
        const [reply] = await this.req.receive();
        this.lastSeenMs = performance.now();
        return (reply ?? Buffer.alloc(0)).toString("latin1");
      } catch (cause) {
        if (this.closed) throw new HutchError(ErrorCode.Closed, `board '${this.spec.name}': link closed`);
        const code = (cause as { code?: string }).code;
        if (code === "EAGAIN") {
          throw new HutchError(
            ErrorCode.Timeout,
            `board '${this.spec.name}' (${this.commandAddress}): no reply to ${what} within ${timeoutMs} ms`,
            { cause },
          );
        }
        throw new HutchError(ErrorCode.Io, `board '${this.spec.name}': ${what} failed: ${String(cause)}`, {
          cause,
        });
      }
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Sends a command whose reply must start with `OK`; throws HUTCH_ERR_IO with the reply otherwise. */
  async command(command: string, timeoutMs?: number): Promise<void> {
    const reply = await this.request(command, timeoutMs);
    if (!reply.startsWith("OK")) {
      throw new HutchError(
        ErrorCode.Io,
        `board '${this.spec.name}': '${command.split(" ")[0]}' answered '${reply.slice(0, 80)}'`,
      );
    }
  }

  private async receive(): Promise<void> {
    try {
      for await (const [msg] of this.sub) {
        this.lastSeenMs = performance.now();
        this.messages++;
        if (msg) this.opts.onMessage(msg);
      }
    } catch (err) {
      if (!this.closed) this.opts.log.error(`board '${this.spec.name}': data socket failed: ${String(err)}`);
    }
  }

  /** Closes both sockets; pending commands fail with HUTCH_ERR_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.req.close();
    this.sub.close();
    await this.loop;
    await this.chain;
  }
}
