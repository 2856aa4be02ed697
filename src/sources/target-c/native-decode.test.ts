// The addon's TARGET-C decoder (native/target_c_decode.c) gives exactly what decodeReadouts gives for the same bytes.
import { describe, expect, it } from "vitest";
import {
  ReadoutBatch,
  TARGET_C_MV_PER_COUNT,
  TARGET_C_READOUT_BYTES,
  decodeReadouts,
  encodeReadout,
} from "../../codecs/index.js";
import { nativeAddon } from "../../core/index.js";

/** `k` readouts with pseudo-random ADC words (every value, extremes too); readout 1 has a zero aux time when `bad`. */
function datagram(k: number, seed: number, bad: boolean): Buffer {
  const b = Buffer.alloc(k * TARGET_C_READOUT_BYTES);
  let s = seed;
  for (let r = 0; r < k; r++) {
    const words = Array.from({ length: 64 }, (_, i) =>
      i === 0 ? 0 : i === 1 ? 0xffff : (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16,
    );
    const ts = 1_700_000_000_000_000_000n + BigInt(seed * 100_000 + r * 1000);
    encodeReadout(b, r * TARGET_C_READOUT_BYTES, ts, bad && r === 1 ? 0n : ts + 7n, words);
  }
  return b;
}

const decode = nativeAddon?.targetCDecode;

describe("native TARGET-C decoder", () => {
  it("is built where CI runs", () => {
    if (process.env.CI === "true") expect(decode).toBeTypeOf("function");
  });

  it.runIf(decode !== undefined)(
    "decodes datagrams at any place of a batch exactly as decodeReadouts does, skipping impossible timestamps",
    () => {
      const slot = 4096;
      const bytes = new Uint8Array(slot * 3);
      const grams = [datagram(10, 1, false), datagram(3, 2, true), datagram(1, 3, false)];
      grams.forEach((g, i) => bytes.set(g, i * slot + 8 * i));
      const plan = new Int32Array(12);
      grams.forEach((g, i) => plan.set([i * slot + 8 * i, g.byteLength, i + 4, -1], 4 * i));
      const a = new ReadoutBatch(64);
      const b = new ReadoutBatch(64);
      a.n = b.n = 2; // from a later row
      const appended = grams.map((g, i) => decodeReadouts(g, i + 4, a));
      const end = decode!(
        bytes,
        plan,
        3,
        b.mv,
        b.tsWords,
        b.auxWords,
        b.module,
        2,
        1,
        Infinity,
        TARGET_C_MV_PER_COUNT,
      );
      expect(end).toBe(a.n);
      expect([plan[3], plan[7], plan[11]]).toEqual(appended);
      expect(appended).toEqual([10, 2, 1]);
      expect(b.module).toEqual(a.module);
      expect(b.timestampNs).toEqual(a.timestampNs);
      expect(b.auxTimestampNs).toEqual(a.auxTimestampNs);
      expect(b.mv).toEqual(a.mv);
    },
  );

  it.runIf(decode !== undefined)(
    "applies timestamp bounds and refuses plans outside the batch or the columns",
    () => {
      const g = datagram(2, 9, false);
      const bytes = new Uint8Array(1024);
      bytes.set(g, 0);
      const out = new ReadoutBatch(2);
      const t = 1_700_000_000_000_900_000;
      const run = (plan: number[], row = 0, minNs = 1) =>
        decode!(
          bytes,
          Int32Array.from(plan),
          plan.length / 4,
          out.mv,
          out.tsWords,
          out.auxWords,
          out.module,
          row,
          minNs,
          Infinity,
          0.0763,
        );
      expect(run([0, 288, 0, 0], 0, t + 1e7)).toBe(0);
      expect(run([0, 288, 0, 0], 0, t - 1e7)).toBe(2);
      expect(() => run([0, 145, 0, 0])).toThrow(/not whole readouts/);
      expect(() => run([900, 288, 0, 0])).toThrow(/outside the batch/);
      expect(() => run([0, 288, 0, 0], 1)).toThrow(/lack room/);
      expect(() => run([0, 144, 0])).toThrow(/more plan entries/);
    },
  );
});
