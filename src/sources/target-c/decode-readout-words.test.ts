// decodeReadoutWords gives exactly what decodeReadouts gives for the same datagram bytes, at any slot of a batch.
import { describe, expect, it } from "vitest";
import { ReadoutBatch, decodeReadouts, encodeReadout, TARGET_C_READOUT_BYTES } from "../../codecs/index.js";
import { decodeReadoutWords } from "./decode-readout-words.js";

/** `k` readouts with pseudo-random ADC words; readout 1 of every datagram has a zero aux timestamp when `bad`. */
function datagram(k: number, seed: number, bad: boolean): Buffer {
  const b = Buffer.alloc(k * TARGET_C_READOUT_BYTES);
  let s = seed;
  for (let r = 0; r < k; r++) {
    const words = Array.from({ length: 64 }, () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16);
    const ts = 1_700_000_000_000_000_000n + BigInt(seed * 1000 + r);
    encodeReadout(b, r * TARGET_C_READOUT_BYTES, ts, bad && r === 1 ? 0n : ts + 7n, words);
  }
  return b;
}

describe("decodeReadoutWords", () => {
  it("decodes datagrams at slots of a batch exactly as decodeReadouts does, skipping impossible timestamps", () => {
    const slot = 4096;
    const bytes = new Uint8Array(slot * 3);
    const words = new Uint32Array(bytes.buffer);
    const grams = [datagram(10, 1, false), datagram(3, 2, true), datagram(1, 3, false)];
    grams.forEach((g, i) => bytes.set(g, i * slot));
    const a = new ReadoutBatch(64);
    const b = new ReadoutBatch(64);
    grams.forEach((g, i) => {
      const n1 = decodeReadouts(g, i + 4, a);
      const n2 = decodeReadoutWords(words, i * slot, g.byteLength, i + 4, b);
      expect(n2).toBe(n1);
    });
    expect(b.n).toBe(13);
    expect(b.module).toEqual(a.module);
    expect(b.timestampNs).toEqual(a.timestampNs);
    expect(b.auxTimestampNs).toEqual(a.auxTimestampNs);
    expect(b.mv).toEqual(a.mv);
  });

  it("applies timestamp bounds and refuses bad lengths, lack of room and unaligned offsets", () => {
    const g = datagram(2, 9, false);
    const bytes = new Uint8Array(1024);
    bytes.set(g, 8);
    const words = new Uint32Array(bytes.buffer);
    const out = new ReadoutBatch(2);
    const t = 1_700_000_000_000_009_000;
    expect(decodeReadoutWords(words, 8, 288, 0, out, { minNs: t + 10_000, maxNs: Infinity })).toBe(0);
    expect(() => decodeReadoutWords(words, 8, 145, 0, out)).toThrow(/not a multiple of 144/);
    expect(() => decodeReadoutWords(words, 8, 0, 0, out)).toThrow(/HUTCH_ERR_WIRE|not a multiple/);
    expect(() => decodeReadoutWords(words, 2, 144, 0, out)).toThrow(/32-bit words/);
    expect(decodeReadoutWords(words, 8, 288, 0, out)).toBe(2);
    expect(() => decodeReadoutWords(words, 8, 144, 0, out)).toThrow(/does not fit/);
  });
});
