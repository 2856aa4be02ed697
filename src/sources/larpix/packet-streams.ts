// The streams a LArPix board source publishes: packets (one event per packet), run messages, pedestals.
import { LARPIX_STREAM_FORMAT, type LarpixPacketBatch } from "../../codecs/index.js";
import { nd, type FieldSpec, type NdArray } from "../../core/index.js";
import type { PixelLayout } from "./pixel-layout.js";

const u8 = (description: string): FieldSpec => ({ dtype: "uint8", shape: [], description });

/**
 * Fields of the `packets` stream: one event per packet (LArPix UART packets of types 0..3, sent and received,
 * and board timestamp rows of type 4). The full 10-bit ADC value is kept (`adc`, uint16).
 */
export const LARPIX_PACKET_FIELDS = {
  io_group: u8("board (first part of the chip key)"),
  io_channel: u8("daisy chain (second part of the chip key)"),
  chip_id: u8("chip id"),
  type: u8("0 data, 1 test, 2 config write, 3 config read, 4 timestamp"),
  channel: u8("channel 0..31 (data)"),
  timestamp: {
    dtype: "uint64",
    shape: [],
    units: "ticks",
    description: "data: chip clock ticks (5 MHz, 24 bits, rolls over every 3.355 s); type 4: unix time (s)",
  },
  adc: { dtype: "uint16", shape: [], units: "ADC counts", description: "10-bit ADC value (data)" },
  fifo_half: u8("FIFO half full flag"),
  fifo_full: u8("FIFO full flag"),
  parity: u8("parity bit as received"),
  valid_parity: u8("1 when the packet has odd parity (good)"),
  register: u8("configuration register (config packets)"),
  value: u8("configuration value (config packets)"),
  counter: { dtype: "uint32", shape: [], description: "test packet counter" },
  direction: u8("0 sent to the chips, 1 received from them"),
  pixel: { dtype: "int32", shape: [], description: "pixel id from the pixel layout; -1 when none" },
} as const satisfies Record<string, FieldSpec>;

/** Fields of the `messages` stream: run messages ("Beginning run", "Ending run", routine notes). */
export const LARPIX_MESSAGE_FIELDS = {
  message: { dtype: "string", shape: [], description: "at most 64 bytes in LArPix+HDF5 files" },
  timestamp: { dtype: "uint64", shape: [], units: "s", description: "unix time" },
} as const satisfies Record<string, FieldSpec>;

/** Fields of the `pedestal` stream written by the calibrate routine: one event per channel. */
export const LARPIX_PEDESTAL_FIELDS = {
  io_group: u8("board"),
  io_channel: u8("daisy chain"),
  chip_id: u8("chip id"),
  channel: u8("channel"),
  pixel: { dtype: "int32", shape: [], description: "pixel id; -1 when none" },
  mean: { dtype: "float64", shape: [], units: "ADC counts", description: "pedestal" },
  rms: { dtype: "float64", shape: [], units: "ADC counts", description: "noise (sample standard deviation)" },
  samples: { dtype: "uint32", shape: [], description: "samples taken" },
} as const satisfies Record<string, FieldSpec>;

/** Descriptor `configuration.format` of the LArPix streams (file layouts find them by it). */
export const LARPIX_FORMAT = LARPIX_STREAM_FORMAT;

/**
 * The columns of a `packets` page: views of rows `[0, n)` of the batch (no copy), with the pixel of each data
 * packet from `layout` filled in. The batch must not be reused afterwards (the page owns its memory).
 */
export function packetColumns(b: LarpixPacketBatch, layout: PixelLayout): Record<string, NdArray> {
  const n = b.n;
  layout.fill(n, b.type, b.ioGroup, b.ioChannel, b.chipId, b.channel, b.pixel);
  const v = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | BigUint64Array>(a: T) =>
    nd(a.subarray(0, n) as T);
  return {
    io_group: v(b.ioGroup),
    io_channel: v(b.ioChannel),
    chip_id: v(b.chipId),
    type: v(b.type),
    channel: v(b.channel),
    timestamp: v(b.timestamp),
    adc: v(b.adc),
    fifo_half: v(b.fifoHalf),
    fifo_full: v(b.fifoFull),
    parity: v(b.parity),
    valid_parity: v(b.validParity),
    register: v(b.register),
    value: v(b.value),
    counter: v(b.counter),
    direction: v(b.direction),
    pixel: v(b.pixel),
  };
}
