// The feed contract: what a panel's server side does with documents, and the body it sends to the page.
import type { Descriptor, RunStart } from "../../core/index.js";
import type { DataDoc } from "../field-values.js";

/** What a feed's snapshot holds: a kind (what the page draws) and a body (arrays travel raw). */
export interface FeedBody {
  readonly kind: string;
  readonly body: unknown;
}

/**
 * The server side of one panel. It sees the documents of its streams (every one when `needsAll`, else only the
 * latest, so a busy bus never queues for it) and keeps a snapshot the hub encodes at most `maxUpdateHz` times
 * per second per browser.
 */
export interface Feed {
  readonly id: string;
  /** Event streams whose events and pages it reads. */
  readonly streams: readonly string[];
  /** True when it accumulates (histogram, scatter): its subscription keeps a queue (drop-oldest), else latest-only. */
  readonly needsAll: boolean;
  /** Increases on every change of the snapshot. */
  readonly version: number;
  /** Time of the newest source document in the snapshot (unix s); latency is measured from it. */
  readonly srcTime: number | undefined;
  onData?(doc: DataDoc): void;
  onRunStart?(doc: RunStart): void;
  onDescriptor?(doc: Descriptor): void;
  /** Events counted on the bus (every one, from a synchronous tap): `n` events of `stream` at `tSec`. */
  onCount?(stream: string, n: number, tSec: number): void;
  /** Called once a second (rates roll over, stale values age). */
  onTick?(tSec: number): void;
  /** The current snapshot, or undefined before there is anything to show. */
  snapshot(): FeedBody | undefined;
}

/** Bookkeeping shared by feeds: version and source time. */
export abstract class BaseFeed implements Feed {
  version = 0;
  srcTime: number | undefined;
  abstract readonly streams: readonly string[];
  abstract readonly needsAll: boolean;
  constructor(readonly id: string) {}

  /** Marks the snapshot changed; `src` is the newest source document time (unix s). */
  protected touch(src?: number): void {
    this.version++;
    if (src !== undefined) this.srcTime = src;
  }

  abstract snapshot(): FeedBody | undefined;
}

/** A feed whose body is set from outside (status, layout, alarms). */
export class ValueFeed extends BaseFeed {
  readonly streams: readonly string[] = [];
  readonly needsAll = false;
  private value: FeedBody | undefined;

  set(kind: string, body: unknown, src?: number): void {
    this.value = { kind, body };
    this.touch(src);
  }

  snapshot(): FeedBody | undefined {
    return this.value;
  }
}
