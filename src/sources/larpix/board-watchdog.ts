// Keeps the boards under watch: pings idle boards, declares lost a board silent for longer than the limit.
import type { BoardLink } from "./board-link.js";

/** Options of the watchdog (units in names). */
export interface BoardWatchdogOptions {
  /** A board silent this long gets a `PING_HB`. */
  readonly pingIntervalMs: number;
  /** A board with no reply and no data message for this long is lost. */
  readonly lostAfterMs: number;
  /** Called once per lost board with a reason naming it, its address and the silence. */
  readonly onLost: (link: BoardLink, reason: string) => void;
  readonly now?: () => number;
}

/**
 * Watches board links while armed (from prepare until reset or close): any reply or data message counts as a
 * sign of life; a board quiet for `pingIntervalMs` is pinged; one quiet for `lostAfterMs` is reported once.
 */
export class BoardWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private readonly lost = new Set<BoardLink>();
  private readonly pinging = new Set<BoardLink>();
  private readonly now: () => number;

  constructor(
    private links: readonly BoardLink[],
    private readonly opts: BoardWatchdogOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
  }

  /** Boards declared lost since the last arm. */
  get lostBoards(): string[] {
    return [...this.lost].map((l) => l.spec.name);
  }

  /** Starts watching these links (forgetting earlier losses). */
  arm(links: readonly BoardLink[] = this.links): void {
    this.disarm();
    this.links = links;
    this.lost.clear();
    const now = this.now();
    for (const l of links) l.lastSeenMs = Math.max(l.lastSeenMs, now);
    const period = Math.max(20, Math.min(this.opts.pingIntervalMs, this.opts.lostAfterMs / 4));
    this.timer = setInterval(() => this.check(), period);
    this.timer.unref();
  }

  disarm(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round: report lost boards, ping quiet ones. */
  check(): void {
    const now = this.now();
    for (const l of this.links) {
      if (this.lost.has(l)) continue;
      const quiet = now - l.lastSeenMs;
      if (quiet > this.opts.lostAfterMs) {
        this.lost.add(l);
        this.opts.onLost(
          l,
          `board '${l.spec.name}' (${l.commandAddress}) stopped answering: no reply and no data for ${Math.round(quiet)} ms (limit ${this.opts.lostAfterMs} ms)`,
        );
      } else if (quiet > this.opts.pingIntervalMs && !this.pinging.has(l)) {
        this.pinging.add(l);
        void l
          .request("PING_HB", Math.min(this.opts.lostAfterMs, 2 * this.opts.pingIntervalMs))
          .catch(() => undefined)
          .finally(() => this.pinging.delete(l));
      }
    }
  }
}
