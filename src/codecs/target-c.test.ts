// Unit tests of the TARGET-C readout codec, against hand-computed bytes and values.
import { describe, expect, it } from "vitest";
import { isHutchError } from "../core/index.js";
import {
  ReadoutBatch,
  TARGET_C_READOUT_BYTES,
  adcToMv,
  datagramLengthProblem,
  decodeReadouts,
  encodeReadout,
  mvToAdc,
} from "./target-c.js";

/** One readout written by hand: ts=0x0102030405060708, aux=ts+1, pixel i word = 0x8000 + i (i < 32), 0x7fff - (i-32). */
function handReadout(): Buffer {
  const b = Buffer.alloc(TARGET_C_READOUT_BYTES);
  b.set([1, 2, 3, 4, 5, 6, 7, 8], 0);
  for (let i = 0; i < 32; i++) b.writeUInt16BE(0x8000 + i, 8 + 2 * i);
  b.set([1, 2, 3, 4, 5, 6, 7, 9], 72);
  for (let i = 0; i < 32; i++) b.writeUInt16BE(0x7fff - i, 80 + 2 * i);
  return b;
}

describe("adcToMv / mvToAdc", () => {
  it("flips the top bit then scales by 0.0763 mV", () => {
    expect(adcToMv(0x8000)).toBe(0);
    expect(adcToMv(0x8001)).toBeCloseTo(0.0763, 12);
    expect(adcToMv(0x0000)).toBeCloseTo(32768 * 0.0763, 9); // 2500.1984 mV
    expect(adcToMv(0x7fff)).toBeCloseTo(65535 * 0.0763, 9);
    expect(adcToMv(0xffff)).toBeCloseTo(32767 * 0.0763, 9);
  });
  it("inverts to the nearest word and clamps", () => {
    expect(mvToAdc(0)).toBe(0x8000);
    expect(mvToAdc(0.0763)).toBe(0x8001);
    expect(mvToAdc(100)).toBe(Math.round(100 / 0.0763) ^ 0x8000);
    expect(mvToAdc(-5)).toBe(0x8000);
    expect(mvToAdc(1e9)).toBe(0x7fff);
  });
});

describe("datagramLengthProblem", () => {
  it("accepts multiples of 144 and names the problem otherwise", () => {
    expect(datagramLengthProblem(144)).toBeUndefined();
    expect(datagramLengthProblem(1440)).toBeUndefined();
    expect(datagramLengthProblem(0)).toBe("empty datagram");
    expect(datagramLengthProblem(145)).toMatch(/145 bytes is not a multiple of 144/);
  });
});

describe("decodeReadouts", () => {
  it("decodes a hand-written readout into the batch columns", () => {
    const batch = new ReadoutBatch(4);
    expect(decodeReadouts(handReadout(), 7, batch)).toBe(1);
    expect(batch.n).toBe(1);
    expect(batch.module[0]).toBe(7);
    expect(batch.timestampNs[0]).toBe(0x0102030405060708n);
    expect(batch.auxTimestampNs[0]).toBe(0x0102030405060709n);
    // pixel 0: 0x8000 -> 0 counts; pixel 5: 0x8005 -> 5 counts; pixel 32: 0x7fff -> 65535; pixel 63: 0x7fe0 -> 65504
    expect(batch.mv[0]).toBe(0);
    expect(batch.mv[5]).toBe(Math.fround(5 * 0.0763));
    expect(batch.mv[32]).toBe(Math.fround(65535 * 0.0763));
    expect(batch.mv[63]).toBe(Math.fround(65504 * 0.0763));
  });

  it("appends several readouts after existing rows and reuses the batch after clear()", () => {
    const batch = new ReadoutBatch(8);
    const one = handReadout();
    decodeReadouts(one, 1, batch);
    expect(decodeReadouts(Buffer.concat([one, one, one]), 2, batch)).toBe(3);
    expect(batch.n).toBe(4);
    expect([...batch.module.subarray(0, 4)]).toEqual([1, 2, 2, 2]);
    expect(batch.mv[3 * 64 + 5]).toBe(Math.fround(5 * 0.0763));
    batch.clear();
    expect(batch.n).toBe(0);
    expect(batch.free).toBe(8);
  });

  it("decodes the same values from a buffer at an odd byte offset (no 16-bit view possible)", () => {
    const odd = Buffer.concat([Buffer.alloc(1), handReadout()]).subarray(1);
    expect(odd.byteOffset % 2).toBe(1);
    const a = new ReadoutBatch(1);
    const b = new ReadoutBatch(1);
    decodeReadouts(odd, 0, a);
    decodeReadouts(handReadout(), 0, b);
    expect([...a.mv]).toEqual([...b.mv]);
    expect(a.timestampNs[0]).toBe(b.timestampNs[0]);
  });

  it("skips readouts whose timestamps are outside the bounds", () => {
    const a = handReadout();
    const zero = handReadout();
    zero.fill(0, 0, 8); // timestamp 0: impossible by default
    const batch = new ReadoutBatch(4);
    expect(decodeReadouts(Buffer.concat([a, zero, a]), 3, batch)).toBe(2);
    expect(batch.n).toBe(2);
    const late = handReadout();
    late.writeBigUInt64BE(0x0102030405060708n, 72); // aux 2^40 ns after ts
    late.writeBigUInt64BE(0x0102030405060708n - (1n << 40n), 0);
    const bounds = { minNs: Number(0x0102030405060708n - 1000n), maxNs: Number(0x0102030405060708n + 1000n) };
    expect(decodeReadouts(Buffer.concat([late, a]), 3, batch, bounds)).toBe(1); // late's ts is below minNs
    expect(batch.timestampNs[2]).toBe(0x0102030405060708n);
  });

  it("rejects wrong lengths and a batch without room, with coded errors", () => {
    const batch = new ReadoutBatch(1);
    let err: unknown;
    try {
      decodeReadouts(Buffer.alloc(150), 0, batch);
    } catch (e) {
      err = e;
    }
    expect(isHutchError(err, "HUTCH_ERR_WIRE")).toBe(true);
    expect(() => decodeReadouts(Buffer.concat([handReadout(), handReadout()]), 0, batch)).toThrow(
      /does not fit/,
    );
  });
});

describe("encodeReadout", () => {
  it("round-trips through decodeReadouts", () => {
    const words = Array.from({ length: 64 }, (_, i) => mvToAdc(i * 10));
    const buf = Buffer.alloc(TARGET_C_READOUT_BYTES);
    encodeReadout(buf, 0, 1_700_000_000_123_456_789n, 1_700_000_000_123_456_790n, words);
    expect(buf.readBigUInt64BE(0)).toBe(1_700_000_000_123_456_789n);
    expect(buf.readUInt16BE(8 + 2 * 3)).toBe(words[3]);
    expect(buf.readUInt16BE(80)).toBe(words[32]);
    const batch = new ReadoutBatch(1);
    decodeReadouts(buf, 0, batch);
    for (let i = 0; i < 64; i++) expect(batch.mv[i]).toBe(Math.fround(adcToMv(words[i]!)));
    expect(batch.auxTimestampNs[0]).toBe(1_700_000_000_123_456_790n);
  });
  it("refuses a wrong word count", () => {
    expect(() => encodeReadout(Buffer.alloc(144), 0, 1n, 1n, [1, 2])).toThrow(/64 ADC words/);
  });
});
