// One DAQ connection: arm messages as the MEC DAQ sends them (raw JSON, no framing) or as NDJSON; OK / NOT OK replies.
import type { Socket } from "node:net";
import { JsonMessageSplitter, checkArmMessage, type ArmMessage } from "../codecs/index.js";
import type { Logger } from "../core/index.js";
import { tokenMatches, type RelayStats } from "./relay-stats.js";

/** What a session needs from the relay. */
export interface DaqSessionDeps {
  /** When set, every message must carry `"token": "<this>"`. */
  readonly token?: string;
  /** A message begun but not finished within this long is refused (default 5 s). */
  readonly messageTimeoutMs: number;
  readonly maxMessageBytes: number;
  /** Hands a valid arm to the detector side; never throws. */
  readonly arm: (
    arm: ArmMessage,
    from: string,
  ) => Promise<{ ok: true; run?: number } | { ok: false; reason: string }>;
  readonly log: Logger;
  readonly stats: RelayStats;
}

/**
 * Serves one DAQ client. Each JSON object found in the stream, however TCP cut or joined it, gets exactly one reply,
 * in order: `OK`, or `NOT OK: <reason>`. A message that ended a segment with no newline after it is a raw (MEC)
 * message: its reply has no newline either, as the MEC DAQ expects. Newline-delimited clients get replies ending
 * in a newline. A client that resets or misbehaves only ends its own session.
 */
export class DaqSession {
  private readonly splitter: JsonMessageSplitter;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private ndjson = false;
  private readonly peer: string;

  constructor(
    private readonly socket: Socket,
    private readonly deps: DaqSessionDeps,
  ) {
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.splitter = new JsonMessageSplitter({ maxBytes: deps.maxMessageBytes });
    socket.on("data", (chunk) => this.onData(chunk));
    socket.on("error", (err) => {
      deps.stats.daq_errors++;
      deps.log.debug(`DAQ client ${this.peer}: ${err.message}`);
    });
    socket.on("close", () => {
      if (this.timer) clearTimeout(this.timer);
    });
  }

  private onData(chunk: Buffer): void {
    for (const item of this.splitter.push(chunk)) {
      if (item.kind === "error") {
        this.enqueue(async () => `NOT OK: ${item.reason}`);
        continue;
      }
      if (item.newline) this.ndjson = true;
      const lineMode = this.ndjson;
      if (lineMode) this.deps.stats.messages_ndjson++;
      else this.deps.stats.messages_raw++;
      this.enqueue(() => this.handle(item.text), lineMode);
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.splitter.pending > 0) {
      this.timer = setTimeout(() => {
        this.splitter.reset();
        this.enqueue(
          async () =>
            `NOT OK: incomplete message: no end of the JSON object within ${this.deps.messageTimeoutMs} ms`,
        );
      }, this.deps.messageTimeoutMs);
      this.timer.unref?.();
    }
  }

  /** Replies in the order the messages came, whatever each takes. */
  private enqueue(work: () => Promise<string>, lineMode = this.ndjson): void {
    this.chain = this.chain.then(async () => {
      const reply = await work().catch(
        (err: unknown) => `NOT OK: ${err instanceof Error ? err.message : String(err)}`,
      );
      if (!this.socket.destroyed && this.socket.writable) this.socket.write(lineMode ? `${reply}\n` : reply);
    });
  }

  private async handle(text: string): Promise<string> {
    const { stats, log } = this.deps;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      stats.arms_invalid++;
      return `NOT OK: not valid JSON: ${(err as Error).message}`;
    }
    if (this.deps.token !== undefined) {
      const given = (raw as { token?: unknown } | null)?.token;
      if (!tokenMatches(this.deps.token, given)) {
        stats.unauthorised++;
        log.warn(`DAQ client ${this.peer}: refused: ${given === undefined ? "no token" : "wrong token"}`);
        return "NOT OK: unauthorised: this relay needs the shared token (field 'token')";
      }
    }
    if (raw && typeof raw === "object" && !Array.isArray(raw) && "token" in raw) {
      const { token: _token, ...rest } = raw as Record<string, unknown>;
      raw = rest;
    }
    const check = checkArmMessage(raw);
    if (!check.ok) {
      stats.arms_invalid++;
      log.warn(`DAQ client ${this.peer}: arm message refused: ${check.reasons.join("; ")}`);
      return `NOT OK: ${check.reasons.join("; ")}`;
    }
    const r = await this.deps.arm(check.arm, this.peer);
    if (r.ok) {
      stats.arms_ok++;
      log.info(
        `DAQ client ${this.peer}: ${check.arm.experiment}/${check.arm.run_name} armed${r.run !== undefined ? ` (run ${r.run})` : ""}`,
      );
      return "OK";
    }
    stats.arms_refused++;
    log.warn(`DAQ client ${this.peer}: ${check.arm.experiment}/${check.arm.run_name} refused: ${r.reason}`);
    return `NOT OK: ${r.reason}`;
  }
}
