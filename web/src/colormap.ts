// Colour maps as 256-entry RGBA lookup tables, and value-to-index scaling (linear or log).

/** Control points (0..1 -> rgb) of each map; the tables interpolate between them. */
const STOPS: Record<string, [number, number, number][]> = {
  viridis: [
    [68, 1, 84],
    [72, 40, 120],
    [62, 74, 137],
    [49, 104, 142],
    [38, 130, 142],
    [31, 158, 137],
    [53, 183, 121],
    [110, 206, 88],
    [181, 222, 43],
    [253, 231, 37],
  ],
  magma: [
    [0, 0, 4],
    [28, 16, 68],
    [79, 18, 123],
    [129, 37, 129],
    [181, 54, 122],
    [229, 80, 100],
    [251, 135, 97],
    [254, 194, 135],
    [252, 253, 191],
  ],
  inferno: [
    [0, 0, 4],
    [31, 12, 72],
    [85, 15, 109],
    [136, 34, 106],
    [186, 54, 85],
    [227, 89, 51],
    [249, 140, 10],
    [249, 201, 50],
    [252, 255, 164],
  ],
  gray: [
    [0, 0, 0],
    [255, 255, 255],
  ],
};

const cache = new Map<string, Uint32Array>();

/** The RGBA table (little-endian packed, for a Uint32Array view of ImageData) of a colour map. */
export function lut(name: string): Uint32Array {
  let t = cache.get(name);
  if (t) return t;
  const stops = STOPS[name] ?? STOPS.viridis!;
  t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(x));
    const f = x - k;
    const a = stops[k]!;
    const b = stops[k + 1]!;
    const c = (j: number) => Math.round(a[j]! + (b[j]! - a[j]!) * f);
    t[i] = (255 << 24) | (c(2) << 16) | (c(1) << 8) | c(0);
  }
  cache.set(name, t);
  return t;
}

/** CSS colour of a table entry (for colour bars and legends). */
export function cssOf(table: Uint32Array, i: number): string {
  const v = table[Math.max(0, Math.min(255, i))]!;
  return `rgb(${v & 255},${(v >> 8) & 255},${(v >> 16) & 255})`;
}

/** Maps a value to 0..255 over [lo, hi], linearly or logarithmically (log of v - lo + 1). */
export function scaler(lo: number, hi: number, log: boolean): (v: number) => number {
  if (!(hi > lo)) return () => 0;
  if (log) {
    const top = Math.log1p(hi - lo);
    return (v) => (v <= lo ? 0 : v >= hi ? 255 : Math.round((Math.log1p(v - lo) / top) * 255));
  }
  const k = 255 / (hi - lo);
  return (v) => (v <= lo ? 0 : v >= hi ? 255 : Math.round((v - lo) * k));
}

/** Renders values into RGBA pixels through a table. */
export function paint(
  values: ArrayLike<number>,
  out: Uint32Array,
  table: Uint32Array,
  lo: number,
  hi: number,
  log: boolean,
): void {
  const s = scaler(lo, hi, log);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = Number.isFinite(v) ? table[s(v)]! : 0xff202020;
  }
}
