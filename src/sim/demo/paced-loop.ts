// A producer loop of the demo simulators: one step per period on a fixed schedule, steps skipped while paused.

/**
 * Runs `step(n)` every `periodMs` on a schedule fixed at start (a late step runs at once, later ones keep the
 * schedule); while paused, steps are counted but not run. `stop()` wakes a waiting loop and resolves once the
 * current step has finished.
 * @example const loop = new PacedLoop(); loop.start(100, async (n) => publish(n), (err) => ctx.fail("stopped", err));
 */
export class PacedLoop {
  private running = false;
  private paused = false;
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  /** Starts (unpaused); `onError` gets an error thrown by a step, which ends the loop. */
  start(periodMs: number, step: (n: number) => Promise<void>, onError: (err: unknown) => void): void {
    this.running = true;
    this.paused = false;
    this.loop = this.run(periodMs, step).catch(onError);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** Stops the loop; resolves when it has ended. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
  }

  private async run(periodMs: number, step: (n: number) => Promise<void>): Promise<void> {
    const t0 = performance.now();
    let n = 0;
    while (this.running) {
      const wait = t0 + n * periodMs - performance.now();
      if (wait > 1) {
        await new Promise<void>((res) => {
          this.wake = res;
          this.timer = setTimeout(res, wait);
        });
      }
      if (!this.running) break;
      n++;
      if (this.paused) continue;
      await step(n);
    }
  }
}
