// Unit tests of the TIFF and .npy codecs: exact header bytes, round trips for uint16 and float32.
import { describe, expect, it } from "vitest";
import { decodeTiff, encodeTiff } from "./area-detector-tiff.js";
import { decodeNpyFloat32, encodeNpyFloat32 } from "./area-detector-npy.js";

describe("TIFF", () => {
  it("writes a little-endian baseline TIFF with the pixels at offset 8 and the IFD after them", () => {
    const px = Uint16Array.of(1, 2, 3, 65535, 0, 7);
    const t = encodeTiff({ width: 3, height: 2, pixels: px, description: '{"run":1}' });
    expect(t.toString("latin1", 0, 2)).toBe("II");
    expect(t.readUInt16LE(2)).toBe(42);
    expect(t.readUInt16LE(8 + 6)).toBe(65535);
    const ifd = t.readUInt32LE(4);
    expect(ifd % 2).toBe(0);
    const tags = Array.from({ length: t.readUInt16LE(ifd) }, (_, i) => t.readUInt16LE(ifd + 2 + 12 * i));
    expect(tags).toEqual([...tags].sort((a, b) => a - b)); // tags ascending, as TIFF requires
    const back = decodeTiff(t);
    expect(back).toEqual({ width: 3, height: 2, pixels: px, description: '{"run":1}' });
  });

  it("round-trips float32 images (SampleFormat 3) and short descriptions stored inline", () => {
    const px = Float32Array.of(-1.5, 0, 2.25, 1e6);
    const back = decodeTiff(encodeTiff({ width: 2, height: 2, pixels: px, description: "ab" }));
    expect(back.pixels).toBeInstanceOf(Float32Array);
    expect([...back.pixels]).toEqual([...px]);
    expect(back.description).toBe("ab");
  });
});

describe(".npy", () => {
  it("writes a 64-byte aligned header numpy accepts and round-trips", () => {
    const data = Float32Array.from({ length: 6 }, (_, i) => i / 3);
    const b = encodeNpyFloat32({ shape: [2, 3], data });
    const headerLen = b.readUInt16LE(8);
    expect((10 + headerLen) % 64).toBe(0);
    expect(b.toString("latin1", 10, 10 + headerLen)).toMatch(
      /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/,
    );
    expect(decodeNpyFloat32(b)).toEqual({ shape: [2, 3], data });
  });
});
