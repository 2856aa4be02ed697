// LArPix chip keys `io_group-io_channel-chip_id`: format, parse, and a numeric code for table lookups.
import { ErrorCode, HutchError } from "../core/index.js";

/** A chip's address: the board (io group), its daisy chain (io channel) and the chip id on that chain. */
export interface ChipAddress {
  readonly ioGroup: number;
  readonly ioChannel: number;
  readonly chipId: number;
}

/**
 * The chip key string as larpix-control writes it.
 * @example chipKey(1, 1, 246) // "1-1-246"
 */
export function chipKey(ioGroup: number, ioChannel: number, chipId: number): string {
  return `${ioGroup}-${ioChannel}-${chipId}`;
}

/**
 * A 24-bit number for a chip address (`ioGroup << 16 | ioChannel << 8 | chipId`), for maps and typed-array keys.
 * @example chipCode(1, 1, 246) === 0x0101f6
 */
export function chipCode(ioGroup: number, ioChannel: number, chipId: number): number {
  return ((ioGroup & 0xff) << 16) | ((ioChannel & 0xff) << 8) | (chipId & 0xff);
}

/**
 * Parses `io_group-io_channel-chip_id` (each 0..255); throws HUTCH_ERR_VALIDATION naming the key otherwise.
 * @example parseChipKey("1-1-246") // { ioGroup: 1, ioChannel: 1, chipId: 246 }
 */
export function parseChipKey(key: string): ChipAddress {
  const m = /^(\d{1,3})-(\d{1,3})-(\d{1,3})$/.exec(key.trim());
  const parts = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
  if (!m || parts.some((p) => p > 255)) {
    throw new HutchError(
      ErrorCode.Validation,
      `chip key '${key}' is not io_group-io_channel-chip_id with each part 0..255 (e.g. 1-1-246)`,
    );
  }
  return { ioGroup: parts[0]!, ioChannel: parts[1]!, chipId: parts[2]! };
}

/** Caches chip key strings by code, so columns of keys share their strings instead of making one per packet. */
export class ChipKeyCache {
  private readonly keys = new Map<number, string>();
  /** The key of an address (the same string object every time). */
  get(ioGroup: number, ioChannel: number, chipId: number): string {
    const code = chipCode(ioGroup, ioChannel, chipId);
    let k = this.keys.get(code);
    if (k === undefined) this.keys.set(code, (k = chipKey(ioGroup, ioChannel, chipId)));
    return k;
  }
}
