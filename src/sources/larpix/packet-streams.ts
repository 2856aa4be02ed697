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
 * Copies rows `[0, n)` of a batch into the columns of a `packets` page (one allocation for all columns), with
 * the pixel of each data packet from `layout`.
 */
export function packetColumns(b: LarpixPacketBatch, layout: PixelLayout): Record<string, NdArray> {
  const n = b.n;
  // 8-byte columns first, then 4, 2 and 1 byte columns: every view is aligned.
  const buf = new ArrayBuffer(n * (8 + 4 + 4 + 2 + 12));
  const timestamp = new BigUint64Array(buf, 0, n);
  const counter = new Uint32Array(buf, 8 * n, n);
  const pixel = new Int32Array(buf, 12 * n, n);
  const adc = new Uint16Array(buf, 16 * n, n);
  let off = 18 * n;
  const u8col = (src: Uint8Array) => {
    const c = new Uint8Array(buf, off, n);
    c.set(src.subarray(0, n));
    off += n;
    return nd(c);
  };
  timestamp.set(b.timestamp.subarray(0, n));
  counter.set(b.counter.subarray(0, n));
  adc.set(b.adc.subarray(0, n));
  layout.fill(n, b.type, b.ioGroup, b.ioChannel, b.chipId, b.channel, pixel);
  return {
    io_group: u8col(b.ioGroup),
    io_channel: u8col(b.ioChannel),
    chip_id: u8col(b.chipId),
    type: u8col(b.type),
    channel: u8col(b.channel),
    timestamp: nd(timestamp),
    adc: nd(adc),
    fifo_half: u8col(b.fifoHalf),
    fifo_full: u8col(b.fifoFull),
    parity: u8col(b.parity),
    valid_parity: u8col(b.validParity),
    register: u8col(b.register),
    value: u8col(b.value),
    counter: nd(counter),
    direction: u8col(b.direction),
    pixel: nd(pixel),
  };
}
