// Run watchdogs: no data from a stream for N ms while running -> pause, abort or error, with the reason recorded.

/** A watchdog from the instrument file. */
export interface WatchdogSpec {
  /** Stream name (the `<stream>` of its topic). */
  readonly stream: string;
  /** Trips when no event of the stream arrived for this long while the run is in RUN. */
  readonly noDataMs: number;
  readonly action: "pause" | "abort" | "error";
}

/**
 * Tracks the last data time of each watched stream; `check()` (called by the core's tick) trips at most once
 * per run. Armed at run start, disarmed at run end.
 */
export class Watchdogs {
  private last = new Map<string, number>();
  private armed = false;
  private tripped = new Set<string>();

  constructor(
    private readonly specs: readonly WatchdogSpec[],
    private readonly now: () => number,
    private readonly trip: (reason: string, action: WatchdogSpec["action"]) => void,
  ) {}

  arm(): void {
    const t = this.now();
    for (const s of this.specs) this.last.set(s.stream, t);
    this.tripped.clear();
    this.armed = true;
  }

  disarm(): void {
    this.armed = false;
  }

  saw(stream: string): void {
    if (this.armed && this.last.has(stream)) this.last.set(stream, this.now());
  }

  check(): void {
    if (!this.armed) return;
    const t = this.now();
    for (const s of this.specs) {
      if (this.tripped.has(s.stream)) continue;
      const idle = t - (this.last.get(s.stream) ?? t);
      if (idle > s.noDataMs) {
        this.tripped.add(s.stream);
        this.trip(
          `watchdog: no data from stream '${s.stream}' for ${(s.noDataMs / 1000).toFixed(1)} s`,
          s.action,
        );
      }
    }
  }
}
