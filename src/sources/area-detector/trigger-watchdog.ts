// The trigger watchdog: frames are taken only until N s pass without one (since start or the last frame).

/**
 * Deadline logic of the trigger watchdog, with an injectable clock. A frame is accepted only when it arrives before
 * the deadline; once the deadline has passed the watchdog stays expired for the rest of the run, so no frame that
 * arrives later (an idle-mode, free-running frame) can ever be taken for a triggered one, even before the timer that
 * aborts the run has fired.
 * @example const wd = new TriggerWatchdog(15_000); wd.arm(); if (!wd.frame()) reject("after trigger timeout");
 */
export class TriggerWatchdog {
  private deadline = Infinity;
  private expiredFlag = false;
  private armed = false;

  constructor(
    readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts watching: the first frame must come within `timeoutMs`. */
  arm(): void {
    this.armed = true;
    this.expiredFlag = false;
    this.deadline = this.now() + this.timeoutMs;
  }

  /** Stops watching (run ended). */
  disarm(): void {
    this.armed = false;
  }

  /** True once the deadline passed while armed. */
  get expired(): boolean {
    return this.expiredFlag;
  }

  /** Milliseconds until the deadline (0 when expired or past). */
  msLeft(): number {
    return Math.max(0, this.deadline - this.now());
  }

  /** Checks the deadline; returns true when it has just expired (the caller aborts the run once). */
  check(): boolean {
    if (!this.armed || this.expiredFlag) return false;
    if (this.now() <= this.deadline) return false;
    this.expiredFlag = true;
    return true;
  }

  /**
   * A frame arrived: returns true (accept, deadline renewed) or false (the deadline has passed: reject it).
   * Call `check()` after a false to learn whether this frame is what found the expiry.
   */
  frame(): boolean {
    if (!this.armed || this.expiredFlag || this.now() > this.deadline) return false;
    this.deadline = this.now() + this.timeoutMs;
    return true;
  }
}
