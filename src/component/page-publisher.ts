// Hands pages to the bus without waiting, with a bound on those not yet taken: what hardware sources publish with.
import { z } from "zod";
import type { Document } from "../core/index.js";
import type { ComponentContext } from "./types.js";

/** The instrument-file parameter that bounds a source's pages in flight (see {@link PagePublisher}). */
export const maxPendingPagesParam = z
  .number()
  .int()
  .min(1)
  .default(64)
  .describe("pages awaiting slow subscribers before dropping");

/**
 * Publishes pages without awaiting each (a receive loop must go on reading its socket), at most `maxPending`
 * not yet handed to the bus's subscribers: beyond that `full` is true and the caller drops the page and counts
 * it, never silently. A failed publish fails the component with `what`. `drain()` resolves once every page
 * published has been handed over.
 * @example
 * if (pub.full) ctx.counters.inc("packets_dropped_backpressure", n); else pub.publish(page);
 */
export class PagePublisher {
  private pending = 0;
  private drained: (() => void)[] = [];

  /**
   * @param maxPending pages in flight at most (may be changed later, e.g. when the component is configured again)
   * @param what what publishing is, for the failure's reason (`larpix: publishing packets`)
   */
  constructor(
    private readonly ctx: Pick<ComponentContext, "bus" | "fail">,
    public maxPending: number,
    private readonly what: string,
  ) {}

  /** True when `maxPending` pages are in flight: the next one is to be dropped. */
  get full(): boolean {
    return this.pending >= this.maxPending;
  }

  /** Pages published and not yet handed over. */
  get inFlight(): number {
    return this.pending;
  }

  publish(doc: Document): void {
    this.pending++;
    this.ctx.bus.publish(doc).then(this.done, this.failed);
  }

  /** Resolves once no page is in flight. */
  async drain(): Promise<void> {
    if (this.pending > 0) await new Promise<void>((r) => this.drained.push(r));
  }

  private done = (): void => {
    if (--this.pending === 0) for (const w of this.drained.splice(0)) w();
  };

  private failed = (err: unknown): void => {
    this.ctx.fail(`${this.what} failed`, err);
    this.done();
  };
}
