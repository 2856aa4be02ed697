// Baseline TIFF (uncompressed, one strip, grey) for uint16 frames and float32 subtracted images, for image viewers.
import { ErrorCode, HutchError } from "../core/index.js";

/** An image as TIFF holds it here: uint16 or float32 grey pixels, row-major. */
export interface TiffImage {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint16Array | Float32Array;
  /** Stored as the ImageDescription tag (e.g. JSON with run, frame and kind). */
  readonly description?: string;
}

const TAG = {
  width: 256,
  height: 257,
  bitsPerSample: 258,
  compression: 259,
  photometric: 262,
  description: 270,
  stripOffsets: 273,
  samplesPerPixel: 277,
  rowsPerStrip: 278,
  stripByteCounts: 279,
  planar: 284,
  sampleFormat: 339,
} as const;
const SHORT = 3;
const LONG = 4;
const ASCII = 2;

/**
 * Encodes a little-endian baseline TIFF: header, pixel data (one strip), description, then the IFD. ImageJ, Fiji,
 * tifffile and PIL read it; float32 images carry SampleFormat = 3.
 * @example writeFileSync("frame.tif", encodeTiff({ width: 256, height: 256, pixels }));
 */
export function encodeTiff(img: TiffImage): Buffer {
  const { width, height, pixels } = img;
  if (pixels.length !== width * height) {
    throw new HutchError(
      ErrorCode.Validation,
      `TIFF of ${width} x ${height} needs ${width * height} pixels, got ${pixels.length}`,
    );
  }
  const float = pixels instanceof Float32Array;
  const dataBytes = pixels.byteLength;
  const desc = img.description === undefined ? undefined : Buffer.from(`${img.description}\0`, "latin1");
  const descAt = 8 + dataBytes;
  let ifdAt = descAt + (desc?.length ?? 0);
  ifdAt += ifdAt % 2; // the IFD starts on a word boundary
  const entries: [number, number, number, number][] = [
    [TAG.width, LONG, 1, width],
    [TAG.height, LONG, 1, height],
    [TAG.bitsPerSample, SHORT, 1, float ? 32 : 16],
    [TAG.compression, SHORT, 1, 1],
    [TAG.photometric, SHORT, 1, 1],
    ...(desc ? [[TAG.description, ASCII, desc.length, descAt] as [number, number, number, number]] : []),
    [TAG.stripOffsets, LONG, 1, 8],
    [TAG.samplesPerPixel, SHORT, 1, 1],
    [TAG.rowsPerStrip, LONG, 1, height],
    [TAG.stripByteCounts, LONG, 1, dataBytes],
    [TAG.planar, SHORT, 1, 1],
    [TAG.sampleFormat, SHORT, 1, float ? 3 : 1],
  ];
  const out = Buffer.alloc(ifdAt + 2 + entries.length * 12 + 4);
  out.write("II", 0, "latin1");
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(ifdAt, 4);
  out.set(new Uint8Array(pixels.buffer, pixels.byteOffset, dataBytes), 8);
  if (desc) out.set(desc, descAt);
  out.writeUInt16LE(entries.length, ifdAt);
  let p = ifdAt + 2;
  for (const [tag, type, n, value] of entries) {
    out.writeUInt16LE(tag, p);
    out.writeUInt16LE(type, p + 2);
    out.writeUInt32LE(n, p + 4);
    if (type === SHORT) out.writeUInt16LE(value, p + 8);
    else if (type === ASCII && n <= 4)
      out.set(desc!, p + 8); // short strings sit in the entry itself
    else out.writeUInt32LE(value, p + 8);
    p += 12;
  }
  out.writeUInt32LE(0, p);
  return out;
}

/**
 * Decodes the TIFFs `encodeTiff` writes (little-endian, uncompressed, grey, uint16 or float32, any strips).
 * Anything else is refused with the reason.
 */
export function decodeTiff(buf: Uint8Array): TiffImage {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const fail = (why: string): never => {
    throw new HutchError(ErrorCode.Validation, `TIFF: ${why}`);
  };
  if (b.length < 8 || b.toString("latin1", 0, 2) !== "II" || b.readUInt16LE(2) !== 42) {
    fail("not a little-endian TIFF");
  }
  const ifd = b.readUInt32LE(4);
  const n = b.readUInt16LE(ifd);
  const tags = new Map<number, { type: number; count: number; at: number }>();
  for (let i = 0; i < n; i++) {
    const p = ifd + 2 + 12 * i;
    tags.set(b.readUInt16LE(p), { type: b.readUInt16LE(p + 2), count: b.readUInt32LE(p + 4), at: p + 8 });
  }
  const values = (tag: number): number[] => {
    const t = tags.get(tag);
    if (!t) return [];
    const size = t.type === SHORT ? 2 : 4;
    const at = t.count * size > 4 ? b.readUInt32LE(t.at) : t.at;
    return Array.from({ length: t.count }, (_, i) =>
      size === 2 ? b.readUInt16LE(at + 2 * i) : b.readUInt32LE(at + 4 * i),
    );
  };
  const one = (tag: number, d?: number): number => values(tag)[0] ?? d ?? fail(`missing tag ${tag}`);
  const width = one(TAG.width);
  const height = one(TAG.height);
  const bits = one(TAG.bitsPerSample);
  const format = one(TAG.sampleFormat, 1);
  if (one(TAG.compression, 1) !== 1) fail("compressed TIFFs are not supported");
  const float = format === 3 && bits === 32;
  if (!float && !(format === 1 && bits === 16)) fail(`${bits}-bit sample format ${format} is not supported`);
  const offsets = values(TAG.stripOffsets);
  const counts = values(TAG.stripByteCounts);
  const bytes = new Uint8Array(width * height * (bits / 8));
  let at = 0;
  offsets.forEach((o, i) => {
    const c = counts[i] ?? 0;
    bytes.set(b.subarray(o, o + c), at);
    at += c;
  });
  if (at !== bytes.length) fail(`strips hold ${at} bytes, the image needs ${bytes.length}`);
  const d = tags.get(TAG.description);
  const descAt = d && d.count > 4 ? b.readUInt32LE(d.at) : d?.at;
  const description =
    d && descAt !== undefined ? b.toString("latin1", descAt, descAt + d.count).replace(/\0$/, "") : undefined;
  const pixels = float ? new Float32Array(bytes.buffer) : new Uint16Array(bytes.buffer);
  return description === undefined ? { width, height, pixels } : { width, height, pixels, description };
}
