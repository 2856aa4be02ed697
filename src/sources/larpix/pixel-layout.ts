// Pixel layouts (larpix-geometry style YAML/JSON): which pixel each chip channel reads, and where the pixel is.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { LARPIX_CHANNELS, chipCode, parseChipKey } from "../../codecs/index.js";
import { ErrorCode, HutchError } from "../../core/index.js";

/**
 * The file: `pixels` as `[id, x, y]` (ids 0..n-1, positions in mm) and `chips` as `[chip, [pixel per channel]]`
 * where `chip` is a chip id (any board and daisy chain) or a chip key `io_group-io_channel-chip_id`, and a pixel
 * entry is null for an unconnected channel.
 */
export const PixelLayoutFileSchema = z.object({
  name: z.string().optional(),
  pixels: z.array(z.tuple([z.number().int().min(0), z.number(), z.number()]).rest(z.unknown())).min(1),
  chips: z.array(
    z.tuple([
      z.union([z.number().int().min(0).max(255), z.string()]),
      z.array(z.number().int().min(0).nullable()).max(LARPIX_CHANNELS),
    ]),
  ),
});

/** A loaded layout: pixel count and positions, and the channel -> pixel lookup. */
export class PixelLayout {
  private readonly byChip = new Map<number, Int32Array>();
  private readonly byKey = new Map<number, Int32Array>();
  /** Per (io group, io channel): pixel of chip id x 32 + channel, built on first use (32 KiB each). */
  private readonly dense = new Map<number, Int32Array>();

  private constructor(
    readonly name: string,
    /** Number of pixels (ids 0..pixels-1). */
    readonly pixels: number,
    /** x, y (mm) of each pixel, interleaved. */
    readonly xy: Float64Array,
  ) {}

  /** Parses a layout document; throws HUTCH_ERR_CONFIG naming `what` and the problem. */
  static fromObject(raw: unknown, what = "pixel layout"): PixelLayout {
    const r = PixelLayoutFileSchema.safeParse(raw);
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw new HutchError(ErrorCode.Config, `${what}: ${i.path.join(".") || "(top level)"}: ${i.message}`);
    }
    const n = r.data.pixels.length;
    const xy = new Float64Array(2 * n).fill(NaN);
    for (const [id, x, y] of r.data.pixels) {
      if (id >= n)
        throw new HutchError(ErrorCode.Config, `${what}: pixel id ${id} >= ${n} pixels (ids are 0..n-1)`);
      xy[2 * id] = x;
      xy[2 * id + 1] = y;
    }
    const layout = new PixelLayout(r.data.name ?? what, n, xy);
    for (const [chip, channels] of r.data.chips) {
      const table = new Int32Array(LARPIX_CHANNELS).fill(-1);
      channels.forEach((p, c) => {
        if (p !== null && p >= n) {
          throw new HutchError(
            ErrorCode.Config,
            `${what}: chip ${chip} channel ${c} names pixel ${p}, only ${n} exist`,
          );
        }
        table[c] = p ?? -1;
      });
      if (typeof chip === "number") layout.byChip.set(chip, table);
      else {
        const a = parseChipKey(chip);
        layout.byKey.set(chipCode(a.ioGroup, a.ioChannel, a.chipId), table);
      }
    }
    return layout;
  }

  /** Loads a YAML or JSON layout file (relative paths from the working directory). */
  static load(path: string): PixelLayout {
    const full = resolve(path);
    let text: string;
    try {
      text = readFileSync(full, "utf8");
    } catch (cause) {
      throw new HutchError(
        ErrorCode.Config,
        `pixel layout ${full}: cannot read it (${(cause as Error).message}); relative paths start at the working directory`,
        { cause },
      );
    }
    return PixelLayout.fromObject(parse(text), `pixel layout ${full}`);
  }

  /**
   * One pixel per channel of the given chips (ids or chip keys), in order: chip k channel c -> pixel 32k + c. The
   * layout used when the instrument names no file.
   */
  static sequential(chips: readonly (number | string)[]): PixelLayout {
    const pixels = Array.from({ length: chips.length * LARPIX_CHANNELS }, (_, i) => [
      i,
      i % 32,
      Math.floor(i / 32),
    ]);
    const table = chips.map((id, k) => [id, Array.from({ length: LARPIX_CHANNELS }, (_, c) => k * 32 + c)]);
    return PixelLayout.fromObject({ name: "sequential", pixels, chips: table });
  }

  /** The pixel of a channel, or -1 when the chip or channel is not in the layout. */
  pixelOf(ioGroup: number, ioChannel: number, chipId: number, channel: number): number {
    const t = this.byKey.get(chipCode(ioGroup, ioChannel, chipId)) ?? this.byChip.get(chipId);
    return t && channel < LARPIX_CHANNELS ? t[channel]! : -1;
  }

  /** The dense table of one daisy chain: keyed chips override chips given by id. */
  private denseFor(ioGroup: number, ioChannel: number): Int32Array {
    const gc = (ioGroup << 8) | ioChannel;
    let t = this.dense.get(gc);
    if (!t) {
      t = new Int32Array(256 * LARPIX_CHANNELS).fill(-1);
      for (const [id, table] of this.byChip) t.set(table, id * LARPIX_CHANNELS);
      for (const [code, table] of this.byKey) {
        if (code >>> 8 === gc) t.set(table, (code & 0xff) * LARPIX_CHANNELS);
      }
      this.dense.set(gc, t);
    }
    return t;
  }

  /**
   * Fills `out[i]` with the pixel of row i for rows `[0, n)` of columns (non-data rows get -1): one table per
   * daisy chain, so a row costs one load.
   */
  fill(
    n: number,
    type: Uint8Array,
    ioGroup: Uint8Array,
    ioChannel: Uint8Array,
    chipId: Uint8Array,
    channel: Uint8Array,
    out: Int32Array,
  ): void {
    let lastGc = -1;
    let table: Int32Array = new Int32Array(0);
    for (let i = 0; i < n; i++) {
      const c = channel[i]!;
      if (type[i] !== 0 || c >= LARPIX_CHANNELS) {
        out[i] = -1;
        continue;
      }
      const gc = (ioGroup[i]! << 8) | ioChannel[i]!;
      if (gc !== lastGc) {
        lastGc = gc;
        table = this.denseFor(ioGroup[i]!, ioChannel[i]!);
      }
      out[i] = table[(chipId[i]! << 5) | c]!;
    }
  }
}
