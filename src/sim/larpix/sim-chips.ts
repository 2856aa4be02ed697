// The simulated chips of a board: registers, per-channel pedestal and noise, and the packets they send.
import {
  LARPIX_ADC_MAX,
  LARPIX_CHANNELS,
  LARPIX_CLOCK_HZ,
  configToRegisters,
  defaultChipConfig,
  encodePacket,
} from "../../codecs/index.js";

/** A seeded pseudo-random generator (mulberry32) with the distributions the simulator needs. */
export class SimRng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal (Box-Muller). */
  gauss(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
  /** Poisson with mean `lambda` (normal approximation above 30). */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.gauss()));
    const l = Math.exp(-lambda);
    let k = 0;
    for (let p = this.next(); p > l; p *= this.next()) k++;
    return k;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** One simulated chip: its 63 registers and the pedestal (ADC counts) and noise (rms counts) of each channel. */
export class SimChip {
  registers = configToRegisters(defaultChipConfig());
  readonly pedestal = new Float64Array(LARPIX_CHANNELS);
  readonly noise = new Float64Array(LARPIX_CHANNELS);

  constructor(
    readonly id: number,
    rng: SimRng,
  ) {
    for (let c = 0; c < LARPIX_CHANNELS; c++) {
      this.pedestal[c] = 60 + 60 * rng.next();
      this.noise[c] = 1.5 + 2.5 * rng.next();
    }
  }

  /** Back to the power-on configuration (SYRESET). */
  reset(): void {
    this.registers = configToRegisters(defaultChipConfig());
  }

  /** True when the channel is not masked off (channel_mask bit 0). */
  enabled(channel: number): boolean {
    return ((this.registers[52 + (channel >> 3)]! >> (channel & 7)) & 1) === 0;
  }

  /** True when the external (forced) trigger samples the channel (external_trigger_mask bit 0). */
  forced(channel: number): boolean {
    return ((this.registers[56 + (channel >> 3)]! >> (channel & 7)) & 1) === 0;
  }

  /** A global threshold of 255 stops self-triggering (how a pedestal scan keeps signals out). */
  get selfTriggering(): boolean {
    return this.registers[32]! < 255;
  }
}

/** Packets being assembled for one message: 7 bytes each, back to back, growing as needed. */
export class PackedPackets {
  bytes = new Uint8Array(7 * 1024);
  count = 0;
  /** Room for one more packet; returns its byte offset. */
  next(): number {
    if (7 * (this.count + 1) > this.bytes.byteLength) {
      const b = new Uint8Array(this.bytes.byteLength * 2);
      b.set(this.bytes);
      this.bytes = b;
    }
    return 7 * this.count++;
  }
  clear(): void {
    this.count = 0;
  }
}

/** Ticks of the 5 MHz chip clock since the board's last reset, in 24 bits (rolls over every 3.355 s). */
export function chipTimestamp(nowMs: number, resetAtMs: number): number {
  const ticks = Math.floor(((nowMs - resetAtMs) * LARPIX_CLOCK_HZ) / 1000);
  return ((ticks % 0x1000000) + 0x1000000) % 0x1000000;
}

const clampAdc = (v: number) => Math.min(LARPIX_ADC_MAX, Math.max(0, Math.round(v)));

/**
 * Appends a data packet of `chip`/`channel` at time `tMs`: ADC = pedestal + noise (+ `signal`), clamped to 10 bits;
 * with probability `badParity` the parity bit is flipped.
 */
export function pushDataPacket(
  out: PackedPackets,
  chip: SimChip,
  channel: number,
  tMs: number,
  resetAtMs: number,
  signal: number,
  rng: SimRng,
  badParity: number,
): void {
  const adc = clampAdc(chip.pedestal[channel]! + chip.noise[channel]! * rng.gauss() + signal);
  const f = { type: 0 as const, chipId: chip.id, channel, timestamp: chipTimestamp(tMs, resetAtMs), adc };
  const o = out.next();
  encodePacket(f, out.bytes, o);
  if (badParity > 0 && rng.next() < badParity) out.bytes[o + 6] = out.bytes[o + 6]! ^ 0x20;
}
