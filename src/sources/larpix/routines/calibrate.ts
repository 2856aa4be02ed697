// The `calibrate` routine: a pedestal scan (forced triggers, self-trigger off) giving per-channel mean and rms.
import { z } from "zod";
import { LARPIX_CHANNELS, LARPIX_TYPE, configToRegisters } from "../../../codecs/index.js";
import { ErrorCode, HutchError, nd, toHutchError } from "../../../core/index.js";
import type { ChipState } from "../larpix-controller.js";
import { LARPIX_PEDESTAL_FIELDS } from "../packet-streams.js";
import { defineRoutine, type RoutineContext } from "./routine.js";

/** Registers the scan changes and restores: global threshold (32), channel mask (52-55), external trigger mask (56-59). */
const SCAN_REGISTERS = [32, 52, 53, 54, 55, 56, 57, 58, 59];

/** Params of `calibrate`. */
export const CalibrateParamsSchema = z.strictObject({
  samples: z.number().int().min(2).max(1_000_000).default(100).describe("samples per channel"),
  triggerHz: z.number().positive().max(100_000).default(200).describe("forced-trigger rate"),
  chips: z.array(z.string()).optional().describe("chip keys; default every chip"),
  timeoutMs: z.number().int().min(100).max(3_600_000).default(30_000).describe("give up after this long"),
  progressMs: z.number().int().min(10).default(250).describe("progress line period"),
  settleMs: z
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(100)
    .describe(
      "wait after starting the trigger before sampling (self-triggered packets still in flight pass)",
    ),
});
/** Params of `calibrate`. */
export type CalibrateParams = z.output<typeof CalibrateParamsSchema>;

/** Running mean and sum of squared deviations per (chip, channel) (Welford), stopping at `samples`. */
class PedestalAccumulator {
  readonly n: Uint32Array;
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  private readonly index = new Map<number, number>();
  complete = 0;

  constructor(
    chips: readonly ChipState[],
    private readonly samples: number,
  ) {
    const size = chips.length * LARPIX_CHANNELS;
    this.n = new Uint32Array(size);
    this.mean = new Float64Array(size);
    this.m2 = new Float64Array(size);
    chips.forEach((c, k) =>
      this.index.set(code(c.address.ioGroup, c.address.ioChannel, c.address.chipId), k),
    );
  }

  get total(): number {
    return this.n.length;
  }

  add(g: number, ch: number, id: number, channel: number, adc: number): void {
    const k = this.index.get(code(g, ch, id));
    if (k === undefined || channel >= LARPIX_CHANNELS) return;
    const i = k * LARPIX_CHANNELS + channel;
    const n = this.n[i]!;
    if (n >= this.samples) return;
    const d = adc - this.mean[i]!;
    this.n[i] = n + 1;
    this.mean[i] = this.mean[i]! + d / (n + 1);
    this.m2[i] = this.m2[i]! + d * (adc - this.mean[i]!);
    if (n + 1 === this.samples) this.complete++;
  }

  collected(): number {
    let s = 0;
    for (const v of this.n) s += v;
    return s;
  }
}

const code = (g: number, c: number, id: number) => (g << 16) | (c << 8) | id;

async function restore(ctx: RoutineContext, chips: readonly ChipState[], saved: Map<string, Uint8Array>) {
  const errors: string[] = [];
  await ctx.controller
    .boardCommand("SETFTST 0x0", chips)
    .catch((e: unknown) => errors.push(toHutchError(e).message));
  for (const c of chips) {
    const before = saved.get(c.key)!;
    await ctx.controller
      .send(
        c,
        SCAN_REGISTERS.map((r) => ({ type: LARPIX_TYPE.configWrite, register: r, value: before[r]! })),
      )
      .catch((e: unknown) => errors.push(toHutchError(e).message));
  }
  return errors;
}

/**
 * Pedestal scan: self-triggering off (global threshold 255), every channel enabled and sampled by the forced
 * trigger at `triggerHz`, `samples` ADC values per channel; per-channel mean and rms (sample standard deviation)
 * saved with the run as the `pedestal` stream. The chips' registers and the trigger are restored afterwards, also
 * on error or timeout.
 * @example hutch routine calibrate samples=200 triggerHz=500
 */
export const calibrateRoutine = defineRoutine({
  name: "calibrate",
  description: "pedestal scan: per-channel ADC mean and rms with forced triggers, saved with the run",
  params: CalibrateParamsSchema as z.ZodType<CalibrateParams>,
  async run(ctx, p) {
    const chips = ctx.controller.select(p.chips);
    if (chips.length === 0) throw new HutchError(ErrorCode.Validation, "calibrate: no chips to calibrate");
    const acc = new PedestalAccumulator(chips, p.samples);
    const saved = new Map(chips.map((c) => [c.key, configToRegisters(c.config)] as const));
    const divisor = Math.max(1, Math.round((ctx.controller.clockKHz * 1000) / p.triggerHz));
    ctx.progress(
      `pedestal scan of ${chips.length} chip(s) x ${LARPIX_CHANNELS} channels, ${p.samples} samples each`,
      {
        chips: chips.map((c) => c.key),
        divisor,
      },
    );
    await ctx.note(`calibrate: pedestal scan begins (${chips.length} chips)`);
    let finished: (() => void) | undefined;
    const all = new Promise<void>((r) => (finished = r));
    let stop: () => void = () => undefined;
    const need = acc.total * p.samples;
    const ticker = setInterval(
      () =>
        ctx.progress(`collected ${acc.collected()} of ${need} samples`, {
          collected: acc.collected(),
          needed: need,
          channelsDone: acc.complete,
          channels: acc.total,
        }),
      p.progressMs,
    );
    let timer: NodeJS.Timeout | undefined;
    try {
      for (const c of chips) {
        const r = configToRegisters({
          ...c.config,
          global_threshold: 255,
          channel_mask: new Array<number>(32).fill(0),
          external_trigger_mask: new Array<number>(32).fill(0),
        });
        await ctx.controller.send(
          c,
          SCAN_REGISTERS.map((reg) => ({ type: LARPIX_TYPE.configWrite, register: reg, value: r[reg]! })),
        );
      }
      await ctx.controller.boardCommand(`SETFTST 0x${divisor.toString(16)}`, chips);
      if (p.settleMs > 0) await new Promise((r) => setTimeout(r, p.settleMs));
      stop = ctx.controller.onPackets((b) => {
        for (let i = 0; i < b.n; i++) {
          if (b.type[i] !== LARPIX_TYPE.data || b.validParity[i] !== 1 || b.direction[i] !== 1) continue;
          acc.add(b.ioGroup[i]!, b.ioChannel[i]!, b.chipId[i]!, b.channel[i]!, b.adc[i]!);
        }
        if (acc.complete === acc.total) finished?.();
      });
      const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), p.timeoutMs)));
      const aborted = new Promise<"aborted">((r) =>
        ctx.signal.addEventListener("abort", () => r("aborted"), { once: true }),
      );
      const how = await Promise.race([all.then(() => "done" as const), late, aborted]);
      if (how !== "done") {
        throw new HutchError(
          how === "late" ? ErrorCode.Timeout : ErrorCode.Aborted,
          `calibrate: ${how === "late" ? `only ${acc.complete} of ${acc.total} channels had ${p.samples} samples after ${p.timeoutMs} ms` : "aborted"} (${acc.collected()} of ${need} samples)`,
        );
      }
    } finally {
      clearTimeout(timer);
      clearInterval(ticker);
      stop();
      const errors = await restore(ctx, chips, saved);
      if (errors.length) ctx.log.error(`calibrate: restoring the chips failed: ${errors.join("; ")}`);
    }
    return finish(ctx, chips, acc, p);
  },
});

async function finish(
  ctx: RoutineContext,
  chips: readonly ChipState[],
  acc: PedestalAccumulator,
  p: CalibrateParams,
) {
  const rows = acc.total;
  const col = <T extends Uint8Array | Int32Array>(a: T, f: (c: ChipState, ch: number) => number): T => {
    chips.forEach((c, k) => {
      for (let ch = 0; ch < LARPIX_CHANNELS; ch++) a[k * LARPIX_CHANNELS + ch] = f(c, ch);
    });
    return a;
  };
  const rms = new Float64Array(rows);
  for (let i = 0; i < rows; i++) rms[i] = acc.n[i]! > 1 ? Math.sqrt(acc.m2[i]! / (acc.n[i]! - 1)) : NaN;
  const saved = await ctx.save("pedestal", LARPIX_PEDESTAL_FIELDS, {
    io_group: nd(col(new Uint8Array(rows), (c) => c.address.ioGroup)),
    io_channel: nd(col(new Uint8Array(rows), (c) => c.address.ioChannel)),
    chip_id: nd(col(new Uint8Array(rows), (c) => c.address.chipId)),
    channel: nd(col(new Uint8Array(rows), (_c, ch) => ch)),
    pixel: nd(
      col(new Int32Array(rows), (c, ch) =>
        ctx.pixelOf(c.address.ioGroup, c.address.ioChannel, c.address.chipId, ch),
      ),
    ),
    mean: nd(Float64Array.from(acc.mean)),
    rms: nd(rms),
    samples: nd(Uint32Array.from(acc.n)),
  });
  await ctx.note(`calibrate: pedestal scan done (${rows} channels)`);
  const avg = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
  return {
    channels: rows,
    samples: p.samples,
    meanPedestal: avg(acc.mean),
    meanNoise: avg(rms),
    saved,
    pedestals: chips.map((c, k) => ({
      chip: c.key,
      mean: Array.from(acc.mean.subarray(k * LARPIX_CHANNELS, (k + 1) * LARPIX_CHANNELS), round2),
      rms: Array.from(rms.subarray(k * LARPIX_CHANNELS, (k + 1) * LARPIX_CHANNELS), round2),
    })),
  };
}

const round2 = (v: number) => Math.round(v * 100) / 100;
