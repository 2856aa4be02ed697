// LArPix v1 chip configuration: 63 8-bit registers and their named fields (larpix-control's Configuration_v1 map).
import { z } from "zod";
import { ErrorCode, HutchError } from "../core/index.js";
import { LARPIX_CHANNELS, LARPIX_REGISTERS } from "./larpix-packet.js";

const ch = (max: number) => z.array(z.number().int().min(0).max(max)).length(LARPIX_CHANNELS);
const u = (max: number) => z.number().int().min(0).max(max);

/**
 * The named configuration of a v1 chip. Per-channel lists have 32 entries. `channel_mask` 1 disables a channel;
 * `external_trigger_mask` 0 lets the external (forced) trigger sample a channel; a `global_threshold` of 255
 * stops self-triggering.
 */
export const LarpixChipConfigSchema = z.strictObject({
  pixel_trim_thresholds: ch(31),
  global_threshold: u(255),
  csa_gain: u(1),
  csa_bypass: u(1),
  internal_bypass: u(1),
  csa_bypass_select: ch(1),
  csa_monitor_select: ch(1),
  csa_testpulse_enable: ch(1),
  csa_testpulse_dac_amplitude: u(255),
  test_mode: u(2),
  cross_trigger_mode: u(1),
  periodic_reset: u(1),
  fifo_diagnostic: u(1),
  sample_cycles: u(255),
  test_burst_length: u(0xffff),
  adc_burst_length: u(255),
  channel_mask: ch(1),
  external_trigger_mask: ch(1),
  reset_cycles: u(0xffffff),
});
/** A chip's named configuration. */
export type LarpixChipConfig = z.infer<typeof LarpixChipConfigSchema>;
/** Changes to a configuration (any subset of fields). */
export const LarpixChipConfigUpdateSchema = LarpixChipConfigSchema.partial();
/** Changes to a configuration. */
export type LarpixChipConfigUpdate = z.infer<typeof LarpixChipConfigUpdateSchema>;

const all = (v: number) => new Array<number>(LARPIX_CHANNELS).fill(v);

/** The configuration a chip has after a reset (larpix-control's v1 defaults). */
export function defaultChipConfig(): LarpixChipConfig {
  return {
    pixel_trim_thresholds: all(16),
    global_threshold: 40,
    csa_gain: 1,
    csa_bypass: 0,
    internal_bypass: 1,
    csa_bypass_select: all(0),
    csa_monitor_select: all(1),
    csa_testpulse_enable: all(0),
    csa_testpulse_dac_amplitude: 0,
    test_mode: 0,
    cross_trigger_mode: 0,
    periodic_reset: 0,
    fifo_diagnostic: 0,
    sample_cycles: 1,
    test_burst_length: 255,
    adc_burst_length: 0,
    channel_mask: all(0),
    external_trigger_mask: all(1),
    reset_cycles: 4096,
  };
}

/** Registers of the per-channel bit lists: 4 registers each, channel c at bit c % 8 of register base + c / 8. */
const BIT_LISTS = [
  ["csa_bypass_select", 34],
  ["csa_monitor_select", 38],
  ["csa_testpulse_enable", 42],
  ["channel_mask", 52],
  ["external_trigger_mask", 56],
] as const;

/**
 * The registers of a configuration, as written to the chip: 0..31 pixel trims, 32 global threshold, 33 csa gain |
 * bypass << 1 | internal bypass << 3, 34..45 and 52..59 the per-channel bit lists, 46 test-pulse amplitude, 47 test
 * mode | cross trigger << 2 | periodic reset << 3 | fifo diagnostic << 4, 48 sample cycles, 49-50 test burst
 * length (low byte first), 51 ADC burst length, 60-62 reset cycles (low byte first).
 * @example configToRegisters(defaultChipConfig())[32] // 40
 */
export function configToRegisters(c: LarpixChipConfig): Uint8Array {
  const r = new Uint8Array(LARPIX_REGISTERS);
  c.pixel_trim_thresholds.forEach((v, i) => (r[i] = v));
  r[32] = c.global_threshold;
  r[33] = c.csa_gain | (c.csa_bypass << 1) | (c.internal_bypass << 3);
  for (const [name, base] of BIT_LISTS) {
    c[name].forEach((v, i) => {
      r[base + (i >> 3)] = r[base + (i >> 3)]! | (v << (i & 7));
    });
  }
  r[46] = c.csa_testpulse_dac_amplitude;
  r[47] = c.test_mode | (c.cross_trigger_mode << 2) | (c.periodic_reset << 3) | (c.fifo_diagnostic << 4);
  r[48] = c.sample_cycles;
  r[49] = c.test_burst_length & 0xff;
  r[50] = c.test_burst_length >>> 8;
  r[51] = c.adc_burst_length;
  r[60] = c.reset_cycles & 0xff;
  r[61] = (c.reset_cycles >>> 8) & 0xff;
  r[62] = c.reset_cycles >>> 16;
  return r;
}

/** The named configuration of 63 register values (the inverse of `configToRegisters`). */
export function registersToConfig(r: ArrayLike<number>): LarpixChipConfig {
  if (r.length !== LARPIX_REGISTERS) {
    throw new HutchError(
      ErrorCode.Validation,
      `a v1 chip has ${LARPIX_REGISTERS} registers, got ${r.length}`,
    );
  }
  const bits = (base: number) =>
    Array.from({ length: LARPIX_CHANNELS }, (_, i) => (r[base + (i >> 3)]! >> (i & 7)) & 1);
  const c: LarpixChipConfig = {
    pixel_trim_thresholds: Array.from({ length: 32 }, (_, i) => r[i]! & 31),
    global_threshold: r[32]!,
    csa_gain: r[33]! & 1,
    csa_bypass: (r[33]! >> 1) & 1,
    internal_bypass: (r[33]! >> 3) & 1,
    csa_bypass_select: bits(34),
    csa_monitor_select: bits(38),
    csa_testpulse_enable: bits(42),
    csa_testpulse_dac_amplitude: r[46]!,
    test_mode: r[47]! & 3,
    cross_trigger_mode: (r[47]! >> 2) & 1,
    periodic_reset: (r[47]! >> 3) & 1,
    fifo_diagnostic: (r[47]! >> 4) & 1,
    sample_cycles: r[48]!,
    test_burst_length: r[49]! | (r[50]! << 8),
    adc_burst_length: r[51]!,
    channel_mask: bits(52),
    external_trigger_mask: bits(56),
    reset_cycles: r[60]! | (r[61]! << 8) | (r[62]! << 16),
  };
  return c;
}

/** Registers whose values differ between two register files, with both values. */
export function registerDiff(
  actual: ArrayLike<number>,
  stored: ArrayLike<number>,
): { register: number; actual: number; stored: number }[] {
  const out: { register: number; actual: number; stored: number }[] = [];
  for (let i = 0; i < LARPIX_REGISTERS; i++) {
    if (actual[i] !== stored[i]) out.push({ register: i, actual: actual[i]!, stored: stored[i]! });
  }
  return out;
}

/**
 * Named fields whose values differ, as `{name: [actual, stored]}` (larpix-daq's validate_configuration answer).
 * @example configDiff(read, stored) // { global_threshold: [255, 40] }
 */
export function configDiff(
  actual: LarpixChipConfig,
  stored: LarpixChipConfig,
): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  for (const k of Object.keys(stored) as (keyof LarpixChipConfig)[]) {
    if (JSON.stringify(actual[k]) !== JSON.stringify(stored[k])) out[k] = [actual[k], stored[k]];
  }
  return out;
}
