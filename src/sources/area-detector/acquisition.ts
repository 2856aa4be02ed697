// One armed acquisition (one run): accepts triggered frames only, classifies, subtracts, publishes, exports TIFFs.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  AdFrameFlags,
  encodeTiff,
  expectedFrames,
  type AdFrameMeta,
  type ArmMessage,
} from "../../codecs/index.js";
import type { ComponentContext } from "../../component/index.js";
import { RateLimiter, nd, nowSec, toHutchError, type RunInfo, type StreamFactory } from "../../core/index.js";
import { BackgroundAccumulator, subtractBackground, type BackgroundMethod } from "./background.js";
import type { BackgroundStore } from "./background-store.js";
import { FRAME_KIND_NAMES, FrameKind, FramePlan, type FrameSlot } from "./frame-plan.js";
import { TriggerWatchdog } from "./trigger-watchdog.js";
import { backgroundFields, frameFields, subtractedFields } from "./area-detector-fields.js";

/** Everything an acquisition needs. */
export interface AcquisitionOptions {
  readonly arm: ArmMessage;
  readonly run: RunInfo;
  readonly ctx: ComponentContext;
  /** Streams are `<prefix>_frames`, `<prefix>_subtracted`, `<prefix>_background`. */
  readonly streamPrefix: string;
  readonly width: number;
  readonly height: number;
  readonly background: BackgroundMethod;
  readonly store: BackgroundStore;
  readonly frameBudgetMs: number;
  readonly storeSkipFrames: boolean;
  readonly rejectMarkedFreeRun: boolean;
  /** Directory for TIFF copies of this run's frames, or undefined for none. */
  readonly tiffDir: string | undefined;
  readonly stopWhenComplete: boolean;
  /** Also subtract the background from post-shot background frames (data frames always are). */
  readonly subtractPostShot: boolean;
  /** Frames waiting to be handled before the link is paused (TCP back-pressure to the driver). */
  readonly maxQueuedFrames: number;
  readonly pauseInput: () => void;
  readonly resumeInput: () => void;
  readonly now?: () => number;
}

interface Item {
  readonly meta: AdFrameMeta;
  readonly pixels: Uint16Array;
  readonly slot: FrameSlot;
  /** performance.now() at arrival (sub-millisecond: the budget check needs it). */
  readonly arrivedMs: number;
}

/** How an acquisition ended. */
export interface AcquisitionSummary {
  readonly accepted: number;
  readonly expected: number;
  readonly complete: boolean;
  readonly missing: string;
  readonly backgroundKeptAt?: string;
}

/**
 * Takes the frames of one run. A frame is accepted only while the run is armed and before the trigger watchdog's
 * deadline; after the deadline the acquisition is expired for good and asks run control to abort with
 * "no trigger for N s". Accepted frames are classified by count (FramePlan), background frames averaged (mean or
 * median), data frames published raw (uint16) and minus the background (float32).
 */
export class Acquisition {
  readonly plan: FramePlan;
  readonly watchdog: TriggerWatchdog;
  private accepting = true;
  private begun = false;
  private readonly queue: Item[] = [];
  private draining: Promise<void> | undefined;
  private paused = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly acc: BackgroundAccumulator | undefined;
  private bg: Float32Array | undefined;
  private bgFromRun: number | undefined;
  private readonly frames: StreamFactory;
  private readonly subtracted: StreamFactory;
  private readonly backgroundStream: StreamFactory;
  private readonly tiffs = new Set<Promise<void>>();
  private readonly budgetLog = new RateLimiter(5, 10_000);
  private stopRequested = false;
  private readonly now: () => number;

  private constructor(private readonly o: AcquisitionOptions) {
    this.now = o.now ?? Date.now;
    this.plan = new FramePlan(o.arm);
    this.watchdog = new TriggerWatchdog(o.arm.trigger_timeout_s * 1000, this.now);
    if (o.arm.num_background_frames > 0)
      this.acc = new BackgroundAccumulator(o.background, o.width, o.height);
    const configuration = { arm: o.arm, width: o.width, height: o.height, background: o.background };
    const p = o.streamPrefix;
    this.frames = o.ctx.stream(`${p}_frames`, frameFields(o.width, o.height), { configuration });
    this.subtracted = o.ctx.stream(`${p}_subtracted`, subtractedFields(o.width, o.height), { configuration });
    this.backgroundStream = o.ctx.stream(`${p}_background`, backgroundFields(o.width, o.height), {
      configuration,
    });
  }

  /** Declares the streams and finds the kept background when the run takes none; `begin()` then arms. */
  static async open(o: AcquisitionOptions): Promise<Acquisition> {
    const a = new Acquisition(o);
    const { ctx } = o;
    await ctx.bus.publish(a.frames.descriptor);
    await ctx.bus.publish(a.subtracted.descriptor);
    await ctx.bus.publish(a.backgroundStream.descriptor);
    if (o.arm.num_background_frames === 0 && o.arm.num_data_frames + o.arm.num_post_background_frames > 0) {
      await a.useKeptBackground();
    }
    return a;
  }

  /**
   * The detector confirmed the arm: frames from now on are taken, and the trigger watchdog runs. The confirmation
   * comes on the same ordered link as the frames, so any frame read out before the arm (an idle-mode frame still in
   * flight) arrives before it and is rejected.
   */
  begin(): void {
    this.begun = true;
    this.watchdog.arm();
    this.schedule();
  }

  /** A frame from the detector link; decides at once (on arrival) whether it is taken. */
  onFrame(meta: AdFrameMeta, pixels: Uint16Array): void {
    const c = this.o.ctx.counters;
    if (!this.accepting) return void c.inc("rejected_after_stop");
    if (!this.begun) return void c.inc("rejected_before_arm");
    if (!this.watchdog.frame()) {
      c.inc("rejected_after_trigger_timeout");
      if (this.watchdog.check()) this.expire();
      return;
    }
    if (this.o.rejectMarkedFreeRun && meta.flags & AdFrameFlags.freeRun) {
      return void c.inc("rejected_marked_free_run");
    }
    if (meta.width !== this.o.width || meta.height !== this.o.height) {
      c.inc("rejected_bad_shape");
      this.o.ctx.log.warn(
        `frame ${meta.frameNumber} is ${meta.width} x ${meta.height}, the run expects ${this.o.width} x ${this.o.height}: rejected`,
      );
      return;
    }
    const slot = this.plan.next();
    c.inc("frames_accepted");
    c.inc(`frames_${FRAME_KIND_NAMES[slot.kind]}`);
    this.queue.push({ meta, pixels, slot, arrivedMs: performance.now() });
    if (this.queue.length >= this.o.maxQueuedFrames && !this.paused) {
      this.paused = true;
      this.o.pauseInput();
    }
    this.kick();
  }

  /** Stops taking frames, finishes the queued ones, keeps a complete background, waits for TIFF files. */
  async end(): Promise<AcquisitionSummary> {
    this.accepting = false;
    this.watchdog.disarm();
    if (this.timer) clearTimeout(this.timer);
    while (this.draining) await this.draining;
    if (this.paused) this.o.resumeInput();
    await Promise.all(this.tiffs);
    const { arm, ctx } = this.o;
    const complete = this.plan.frames >= this.plan.expected;
    const missing = this.plan.describeMissing();
    if (!complete) {
      ctx.log.warn(`Did not receive all expected frames! missing: ${missing}`, { missing });
      ctx.counters.inc("runs_incomplete");
    }
    let backgroundKeptAt: string | undefined;
    if (this.bg && this.bgFromRun === undefined && this.acc && this.acc.count === arm.num_background_frames) {
      backgroundKeptAt = await this.o.store.keep(
        {
          experiment: arm.experiment,
          gain: arm.gain,
          binning: arm.binning,
          width: this.o.width,
          height: this.o.height,
          run: this.o.run.run,
          runUid: this.o.run.uid,
          time: nowSec(),
          frames: this.acc.count,
          method: this.o.background,
          detector: ctx.name,
        },
        this.bg,
      );
    }
    return {
      accepted: this.plan.frames,
      expected: expectedFrames(arm),
      complete,
      missing,
      ...(backgroundKeptAt ? { backgroundKeptAt } : {}),
    };
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    if (!this.accepting || this.watchdog.expired) return;
    this.timer = setTimeout(() => {
      if (this.watchdog.check()) this.expire();
      else this.schedule();
    }, this.watchdog.msLeft() + 1);
    this.timer.unref?.();
  }

  private expire(): void {
    const s = this.o.arm.trigger_timeout_s;
    const reason = `no trigger for ${s} s`;
    const { ctx } = this.o;
    ctx.counters.inc("trigger_timeouts");
    ctx.log.error(`${reason}: acquisition aborted; later frames (idle mode) are rejected`, {
      frames: this.plan.frames,
      expected: this.plan.expected,
    });
    ctx.alarm(
      `${ctx.name}:trigger`,
      "error",
      `${ctx.name}: ${reason} (${this.plan.describeMissing()} missing)`,
    );
    ctx.request("abort", reason);
  }

  /** Starts handling queued frames in order unless already doing so. */
  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length) this.kick();
      else if (this.plan.complete && this.o.stopWhenComplete && !this.stopRequested && this.accepting) {
        this.stopRequested = true;
        this.o.ctx.request("stop", `all ${this.plan.expected} frame(s) received`);
      }
    });
  }

  private async drain(): Promise<void> {
    await Promise.resolve();
    try {
      for (let item = this.queue.shift(); item; item = this.queue.shift()) {
        await this.handle(item);
        if (this.paused && this.queue.length < this.o.maxQueuedFrames / 2) {
          this.paused = false;
          this.o.resumeInput();
        }
      }
    } catch (err) {
      this.queue.length = 0;
      this.o.ctx.fail(`${this.o.ctx.name}: handling a frame failed`, err);
    }
  }

  private async handle(it: Item): Promise<void> {
    const { slot, meta, pixels } = it;
    const { ctx, width: w, height: h } = this.o;
    const time = Float64Array.of(meta.time > 0 ? meta.time : nowSec());
    if (slot.kind === FrameKind.background && this.acc) {
      this.acc.add(pixels);
      if (this.acc.count === this.o.arm.num_background_frames) await this.backgroundReady();
    }
    const scalars = {
      kind: nd(Uint8Array.of(slot.kind)),
      frame_index: nd(Int32Array.of(slot.frameIndex)),
      event_number: nd(Int32Array.of(slot.eventNumber)),
    };
    let sub: Float32Array | undefined;
    const subtract =
      slot.kind === FrameKind.data || (slot.kind === FrameKind.postBackground && this.o.subtractPostShot);
    if (subtract && this.bg) {
      // Not zero-filled: every element is written (33 MB at full size; zeroing it first costs as much again).
      sub = subtractBackground(
        pixels,
        this.bg,
        new Float32Array(Buffer.allocUnsafeSlow(pixels.length * 4).buffer),
      );
      await ctx.bus.publish(this.subtracted.page(time, { subtracted: nd(sub, [1, h, w]), ...scalars }));
    } else if (slot.kind === FrameKind.data) ctx.counters.inc("data_frames_not_subtracted");
    if (slot.kind !== FrameKind.skip || this.o.storeSkipFrames) {
      await ctx.bus.publish(
        this.frames.page(time, {
          frame: nd(pixels, [1, h, w]),
          ...scalars,
          detector_frame: nd(Uint32Array.of(meta.frameNumber)),
          trigger: nd(Uint32Array.of(meta.triggerNumber)),
          flags: nd(Uint32Array.of(meta.flags)),
        }),
      );
    }
    if (this.o.tiffDir && slot.kind !== FrameKind.skip) await this.tiff(it, sub);
    const ms = performance.now() - it.arrivedMs;
    ctx.counters.set("handling_ms_last", Math.round(ms * 10) / 10);
    if (ms > ctx.counters.get("handling_ms_max")) ctx.counters.set("handling_ms_max", ms);
    if (ms > this.o.frameBudgetMs) {
      ctx.counters.inc("frames_over_budget");
      if (this.budgetLog.take()) {
        ctx.log.warn(
          `frame ${slot.frameIndex} took ${ms.toFixed(1)} ms to handle (budget ${this.o.frameBudgetMs} ms): a trigger may have been missed`,
        );
      }
    }
  }

  private async backgroundReady(): Promise<void> {
    this.bg = await this.acc!.result();
    await this.publishBackground(this.acc!.count, 0, this.o.run.run);
    this.o.ctx.log.info(`background of ${this.acc!.count} frame(s) (${this.o.background}) ready`);
  }

  private async useKeptBackground(): Promise<void> {
    const { arm, ctx } = this.o;
    const kept = await this.o.store.last(ctx.name, arm.experiment, arm.gain, arm.binning).catch((err) => {
      ctx.log.warn(`kept background unreadable: ${toHutchError(err).message}`);
      return undefined;
    });
    const what = `experiment ${arm.experiment}, gain ${arm.gain}, binning ${arm.binning}`;
    if (!kept || kept.info.width !== this.o.width || kept.info.height !== this.o.height) {
      ctx.log.warn(
        `this run takes no background frames and none is kept for ${what}: data frames are not subtracted`,
      );
      ctx.counters.set("background_origin_none", 1);
      return;
    }
    this.bg = kept.pixels;
    this.bgFromRun = kept.info.run;
    ctx.counters.set("background_from_run", kept.info.run);
    ctx.log.warn(
      `this run takes no background frames: subtracting the background kept from run ${kept.info.run} (${what}, ${kept.info.frames} frame(s), ${kept.info.method})`,
    );
    await this.publishBackground(kept.info.frames, 1, kept.info.run);
  }

  private async publishBackground(frames: number, origin: 0 | 1, fromRun: number): Promise<void> {
    const { width: w, height: h, ctx } = this.o;
    await ctx.bus.publish(
      this.backgroundStream.page(Float64Array.of(nowSec()), {
        background: nd(this.bg!, [1, h, w]),
        frames: nd(Int32Array.of(frames)),
        method: nd(Uint8Array.of(this.o.background === "mean" ? 0 : 1)),
        origin: nd(Uint8Array.of(origin)),
        from_run: nd(Int32Array.of(fromRun)),
      }),
    );
  }

  private async tiff(it: Item, sub: Float32Array | undefined): Promise<void> {
    const dir = this.o.tiffDir!;
    const { width, height } = this.o;
    const name = `${FRAME_KIND_NAMES[it.slot.kind]}_${String(it.slot.frameIndex).padStart(5, "0")}`;
    const description = JSON.stringify({
      run: this.o.run.run,
      frame_index: it.slot.frameIndex,
      event_number: it.slot.eventNumber,
      kind: FRAME_KIND_NAMES[it.slot.kind],
      gain: this.o.arm.gain,
    });
    while (this.tiffs.size >= 4) await Promise.race(this.tiffs);
    const job = (async () => {
      await mkdir(dir, { recursive: true });
      await writeFile(
        join(dir, `${name}.tif`),
        encodeTiff({ width, height, pixels: it.pixels, description }),
      );
      if (sub) {
        await writeFile(
          join(dir, `${name}_subtracted.tif`),
          encodeTiff({ width, height, pixels: sub, description }),
        );
      }
      this.o.ctx.counters.inc("tiff_files", sub ? 2 : 1);
    })().catch((err) => {
      this.o.ctx.counters.inc("tiff_errors");
      this.o.ctx.log.error(`TIFF export to ${dir} failed: ${toHutchError(err).message}`);
    });
    this.tiffs.add(job);
    void job.finally(() => this.tiffs.delete(job));
  }
}
