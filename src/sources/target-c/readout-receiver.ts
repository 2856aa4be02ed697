// The receive path of the TARGET-C source: validate datagrams (one by one from dgram, or a native batch), decode in place into pages, publish.
import {
  ANY_NONZERO_TIMESTAMP,
  TARGET_C_MAX_READOUTS,
  TARGET_C_MV_PER_COUNT,
  TARGET_C_PIXELS,
  TARGET_C_READOUT_BYTES,
  datagramLengthProblem,
  decodeReadouts,
  type TimestampBounds,
} from "../../codecs/index.js";
import { PagePublisher, type ComponentContext } from "../../component/index.js";
import { RateLimiter, nativeAddon, type StreamFactory } from "../../core/index.js";
import { ipv4String, moduleResolver, moduleResolverIpv4 } from "./module-map.js";
import { ModuleTracker } from "./module-tracker.js";
import { UDP_BATCH_DATAGRAMS, UDP_SLOT_BYTES, type UdpBatch } from "./native-udp-receiver.js";
import { ReadoutPage } from "./readout-page.js";
import { TARGET_C_READOUT_FIELDS, TARGET_C_REJECTIONS, type TargetCSourceParams } from "./target-c-params.js";

/** Longest delay (ms) between a datagram and its counts showing in the component's counters. */
const COUNTER_SYNC_MS = 20;

/**
 * The receive path of one bound socket: validate, decode in place into the next page, publish pages. Datagrams
 * come one by one from dgram (`onMessage`) or in batches from the native receiver (`onBatch`); both paths count,
 * reject and decode alike.
 */
export class ReadoutReceiver {
  running = false;
  private stream: StreamFactory | undefined;
  private moduleOf: (address: string) => number;
  private moduleOfIpv4: (address: number) => number;
  private tracker: ModuleTracker;
  private readonly page: ReadoutPage;
  /** The datagrams of a native batch to decode: byte offset, length, module, rows appended; and their sources. */
  private readonly plan = new Int32Array(4 * UDP_BATCH_DATAGRAMS);
  private readonly planAddress = new Uint32Array(UDP_BATCH_DATAGRAMS);
  private flushScheduled = false;
  private syncTimer: NodeJS.Timeout | undefined;
  /** Publishes the page once minPageIntervalMs have passed since the last one. */
  private pageTimer: NodeJS.Timeout | undefined;
  private lastPublishMs = -Infinity;
  /** Counted per datagram in plain numbers; `syncCounts` adds them to ctx.counters every COUNTER_SYNC_MS. */
  private readonly counts = { datagrams: 0, bytes: 0, datagrams_outside_run: 0, readouts: 0, pages: 0 };
  private readonly pages: PagePublisher;
  private bounds: TimestampBounds = ANY_NONZERO_TIMESTAMP;
  private boundsAtMs = -Infinity;
  /** Log limits per rejection reason (so a flood of one kind cannot hide another) and for internal errors. */
  private readonly limiters = new Map<string, RateLimiter>();
  private readonly limiter = new RateLimiter(5, 10_000);

  constructor(
    private p: TargetCSourceParams,
    private readonly ctx: ComponentContext,
  ) {
    this.page = new ReadoutPage(p.batchReadouts);
    this.pages = new PagePublisher(ctx, p.maxPendingPages, "target-c source: publishing readouts");
    this.moduleOf = moduleResolver(p.moduleMap, p.modules);
    this.moduleOfIpv4 = moduleResolverIpv4(p.moduleMap, p.modules);
    this.tracker = new ModuleTracker(p.modules, ctx.counters, p.readoutPeriodNs);
  }

  /** Takes new params that need no rebinding (module map, checks, stream). */
  update(p: TargetCSourceParams): void {
    this.publishNow();
    this.syncCounts();
    this.p = p;
    this.pages.maxPending = p.maxPendingPages;
    this.moduleOf = moduleResolver(p.moduleMap, p.modules);
    this.moduleOfIpv4 = moduleResolverIpv4(p.moduleMap, p.modules);
    this.tracker = new ModuleTracker(p.modules, this.ctx.counters, p.readoutPeriodNs);
  }

  async begin(): Promise<void> {
    this.tracker.reset();
    this.stream = this.ctx.stream(this.p.stream, TARGET_C_READOUT_FIELDS, {
      configuration: { modules: this.p.modules, moduleMap: this.p.moduleMap, port: this.p.port },
    });
    await this.ctx.bus.publish(this.stream.descriptor);
    this.running = true;
  }

  /** Stops taking datagrams, publishes what is batched and waits for every page to be handed over. */
  async end(): Promise<void> {
    this.running = false;
    this.publishNow();
    this.syncCounts();
    await this.pages.drain();
    this.stream = undefined;
  }

  /** One datagram from dgram. */
  onMessage = (msg: Buffer, from: { address: string }): void => {
    const len = msg.byteLength;
    if (!this.arrived(len)) return;
    try {
      const module = this.check(len, this.moduleOf(from.address), from.address);
      if (module < 0) return;
      this.makeRoom(len / TARGET_C_READOUT_BYTES);
      const page = this.page;
      const start = page.n;
      const appended = decodeReadouts(msg, module, page, this.timestampBounds());
      this.counted(module, start, appended, len, from.address);
      if (page.n > page.limit - TARGET_C_MAX_READOUTS) this.publishBatch();
    } catch (err) {
      this.internalError(err, from.address);
    }
  };

  /**
   * The first `count` datagrams of a native batch: checked one by one (length, module, room in the page), then
   * decoded together by the addon (`targetCDecode`), at most once per page: no object and no call per datagram.
   */
  onBatch = (batch: UdpBatch, count: number): void => {
    const page = this.page;
    let planned = 0;
    let rows = 0;
    for (let i = 0; i < count; i++) {
      const len = batch.length(i);
      if (!this.arrived(len)) continue;
      const address = batch.address(i);
      const module = this.check(len, this.moduleOfIpv4(address), address);
      if (module < 0) continue;
      const n = len / TARGET_C_READOUT_BYTES;
      if (!page.fits(rows + n)) {
        this.decodePlan(batch, planned);
        planned = rows = 0;
        this.makeRoom(n);
      }
      const plan = this.plan;
      plan[4 * planned] = i * UDP_SLOT_BYTES;
      plan[4 * planned + 1] = len;
      plan[4 * planned + 2] = module;
      this.planAddress[planned++] = address;
      rows += n;
    }
    this.decodePlan(batch, planned);
  };

  /** Decodes the `planned` datagrams of the plan into the page and counts them; publishes a nearly full page. */
  private decodePlan(batch: UdpBatch, planned: number): void {
    if (planned === 0) return;
    const page = this.page;
    const plan = this.plan;
    try {
      const b = this.timestampBounds();
      let row = page.n;
      page.n = nativeAddon!.targetCDecode(
        batch.bytes,
        plan,
        planned,
        page.mv,
        page.tsWords,
        page.auxWords,
        page.module,
        row,
        b.minNs,
        b.maxNs,
        TARGET_C_MV_PER_COUNT,
      );
      for (let e = 0; e < planned; e++) {
        const appended = plan[4 * e + 3]!;
        const module = plan[4 * e + 2]!;
        this.counted(module, row, appended, plan[4 * e + 1]!, this.planAddress[e]!);
        row += appended;
      }
      if (page.n > page.limit - TARGET_C_MAX_READOUTS) this.publishBatch();
    } catch (err) {
      this.internalError(err, this.planAddress[0]!);
    }
  }

  /** Counts a datagram and schedules the flush of this turn; false when no run is taking datagrams. */
  private arrived(byteLength: number): boolean {
    this.counts.datagrams++;
    this.counts.bytes += byteLength;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
    if (this.running) return true;
    this.counts.datagrams_outside_run++;
    return false;
  }

  /** Checks a datagram's length and module, rejecting it when either is bad; returns the module or -1. */
  private check(byteLength: number, module: number, address: string | number): number {
    const problem = datagramLengthProblem(byteLength);
    if (problem) {
      this.reject(TARGET_C_REJECTIONS.badLength, address, problem, 1);
      return -1;
    }
    if (module < 0) {
      this.reject(TARGET_C_REJECTIONS.unknownSource, address, "the address is not a module's", 1);
      return -1;
    }
    return module;
  }

  /** Publishes the page and opens the next when it lacks room for `rows` more rows. */
  private makeRoom(rows: number): void {
    if (this.page.fits(rows)) return;
    this.publishBatch();
    this.page.open(rows);
  }

  /** Counts the `appended` readouts of a datagram decoded at row `start` and its skipped ones. */
  private counted(
    module: number,
    start: number,
    appended: number,
    byteLength: number,
    address: string | number,
  ): void {
    const count = byteLength / TARGET_C_READOUT_BYTES;
    this.counts.readouts += appended;
    this.tracker.observe(module, this.page.tsWords, start, start + appended);
    if (appended < count) {
      const why = `timestamp outside ${this.describeBounds()}`;
      this.reject(TARGET_C_REJECTIONS.badTimestamp, address, why, count - appended);
    }
  }

  private internalError(err: unknown, address: string | number): void {
    this.ctx.counters.inc("internal_errors");
    if (this.limiter.take()) {
      this.ctx.log.error(`target-c source: datagram from ${addressText(address)} failed: ${String(err)}`);
    }
  }

  /**
   * At the end of a turn of the event loop: publishes the page, unless one went out less than minPageIntervalMs
   * ago; then a timer publishes it when the interval is over. A lone datagram is published at once; under a
   * steady stream the per-page costs (page, bus, builder, subscribers) are shared by every datagram of the
   * interval instead of the one or two a turn holds. The counts follow within COUNTER_SYNC_MS.
   */
  private flush = (): void => {
    this.flushScheduled = false;
    if (this.page.n > 0 && !this.pageTimer) {
      const waitMs = this.lastPublishMs + this.p.minPageIntervalMs - performance.now();
      if (waitMs <= 0) this.publishNow();
      else this.pageTimer = setTimeout(this.publishNow, Math.ceil(waitMs));
    }
    this.syncTimer ??= setTimeout(this.syncCounts, COUNTER_SYNC_MS);
  };

  /** Publishes the page now (timer, end of run). */
  private publishNow = (): void => {
    clearTimeout(this.pageTimer);
    this.pageTimer = undefined;
    this.publishBatch();
  };

  /**
   * Copies the counts (global and per module, together, so they agree) into ctx.counters. Not per turn: at
   * 10^4 datagrams/s the 64 per-module counter updates of each turn cost as much as decoding.
   */
  private syncCounts = (): void => {
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    const c = this.ctx.counters;
    const k = this.counts;
    if (k.datagrams !== 0) c.inc("datagrams", k.datagrams);
    if (k.bytes !== 0) c.inc("bytes", k.bytes);
    if (k.datagrams_outside_run !== 0) c.inc("datagrams_outside_run", k.datagrams_outside_run);
    if (k.readouts !== 0) c.inc("readouts", k.readouts);
    if (k.pages !== 0) c.inc("pages", k.pages);
    k.datagrams = k.bytes = k.datagrams_outside_run = k.readouts = k.pages = 0;
    this.tracker.sync();
  };

  /** Publishes the rows decoded so far as one page (written in place: no copy). */
  private publishBatch(): void {
    const pg = this.page;
    const n = pg.n;
    if (n === 0 || !this.stream) return;
    if (this.pages.full) {
      pg.discard();
      this.ctx.counters.inc("readouts_dropped_backpressure", n);
      return;
    }
    this.lastPublishMs = performance.now();
    const cols = pg.seal(Date.now() / 1000);
    // NdArrays made directly (dtypes and shapes are known here): nd() would check each one again
    const page = this.stream.page(cols.time, {
      module: { dtype: "uint16", shape: [n], data: cols.module },
      timestamp: { dtype: "uint64", shape: [n], data: cols.timestamp },
      aux_timestamp: { dtype: "uint64", shape: [n], data: cols.auxTimestamp },
      data: { dtype: "float32", shape: [n, TARGET_C_PIXELS], data: cols.data },
    });
    this.counts.pages++;
    this.pages.publish(page);
  }

  private timestampBounds(): TimestampBounds {
    const skew = this.p.maxClockSkewMs;
    if (skew === null) return ANY_NONZERO_TIMESTAMP;
    const now = Date.now();
    if (now - this.boundsAtMs > 100) {
      this.boundsAtMs = now;
      this.bounds = { minNs: Math.max(1, (now - skew) * 1e6), maxNs: (now + skew) * 1e6 };
    }
    return this.bounds;
  }

  private describeBounds(): string {
    const skew = this.p.maxClockSkewMs;
    return skew === null ? "1..2^64-1 ns" : `host clock +-${skew} ms (maxClockSkewMs)`;
  }

  private reject(reason: string, address: string | number, detail: string, n: number): void {
    this.ctx.counters.inc(`rejected_${reason}`, n);
    let limiter = this.limiters.get(reason);
    if (!limiter) this.limiters.set(reason, (limiter = new RateLimiter(5, 10_000)));
    if (limiter.take()) {
      const from = addressText(address);
      this.ctx.log.warn(`target-c source: rejected ${reason.replace(/_/g, " ")} from ${from}: ${detail}`, {
        reason,
        address: from,
        count: n,
        suppressedBefore: limiter.suppressed,
      });
      limiter.suppressed = 0;
    }
  }
}

/** An address as text: dgram gives strings, the native path host-order uint32 IPv4 addresses. */
function addressText(address: string | number): string {
  return typeof address === "number" ? ipv4String(address) : address;
}
