// The decode loops: every column of every row against fieldsOf, for mixed packet types, any start row and reuse,
// with the TypeScript decoder and with the native one (native/larpix_decode.c), which CI requires to be built.
import { afterAll, describe, expect, it } from "vitest";
import { nativeAddon } from "../core/index.js";
import { encodePacket, fieldsOf, readWord, type LarpixPacketFields } from "./larpix-packet.js";
import { LarpixPacketBatch, decodeWords, useNativeLarpixDecoder } from "./larpix-packet-batch.js";

/** Deterministic packets: mostly data (runs of four take the fast path), some of every other type, some bad. */
function packets(count: number, seed: number): LarpixPacketFields[] {
  let s = seed;
  const rnd = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  const out: LarpixPacketFields[] = [];
  for (let k = 0; k < count; k++) {
    const r = rnd(10);
    const type = (r < 7 ? 0 : r - 6) as 0 | 1 | 2 | 3;
    const f: LarpixPacketFields = {
      type,
      chipId: rnd(256),
      channel: rnd(128),
      timestamp: rnd(1 << 24),
      adc: rnd(1024),
      fifoHalf: rnd(2),
      fifoFull: rnd(2),
      register: rnd(256),
      value: rnd(256),
      counter: rnd(1 << 16),
    };
    const good = encodePacket(f);
    const bad = rnd(8) === 0;
    out.push(bad ? { ...f, parity: (good[6]! >>> 5) & 1 ? 0 : 1 } : f);
  }
  return out;
}

/** Checks every column of rows `[first, first + bytes.length / stride)` against the packets' fields. */
function expectRows(b: LarpixPacketBatch, first: number, bytes: Uint8Array, stride: number, count: number) {
  for (let k = 0; k < count; k++) {
    const f = fieldsOf(readWord(bytes, stride * k));
    const i = first + k;
    const row = {
      type: b.type[i],
      chipId: b.chipId[i],
      channel: b.channel[i],
      timestamp: b.timestamp[i],
      adc: b.adc[i],
      fifoHalf: b.fifoHalf[i],
      fifoFull: b.fifoFull[i],
      register: b.register[i],
      value: b.value[i],
      counter: b.counter[i],
      parity: b.parity[i],
      validParity: b.validParity[i],
      ioGroup: b.ioGroup[i],
      ioChannel: b.ioChannel[i],
      direction: b.direction[i],
    };
    expect(row, `row ${i}`).toEqual({
      type: f.type,
      chipId: f.chipId,
      channel: f.channel ?? 0,
      timestamp: BigInt(f.timestamp ?? 0),
      adc: f.adc ?? 0,
      fifoHalf: f.fifoHalf ?? 0,
      fifoFull: f.fifoFull ?? 0,
      register: f.register ?? 0,
      value: f.value ?? 0,
      counter: f.counter ?? 0,
      parity: f.parity,
      validParity: f.validParity ? 1 : 0,
      ioGroup: 5,
      ioChannel: 6,
      direction: 1,
    });
  }
}

const initial = useNativeLarpixDecoder(false);
afterAll(() => void useNativeLarpixDecoder(initial));

it("the native decoder is built where CI runs (scripts/build.mjs, node-gyp)", () => {
  if (process.env.CI === "true") expect(nativeAddon, "native/build/Release/hutch_native.node").toBeDefined();
});

const decoders = nativeAddon ? ["TypeScript", "native"] : ["TypeScript"];

describe.each(decoders)("decode loops (%s)", (which) => {
  const use = () => useNativeLarpixDecoder(which === "native");

  it("write every column of every row, whatever the start row, type mix or previous contents", () => {
    use();
    const list = packets(203, 11);
    const dirty = packets(220, 99).map((f) => ({ ...f, type: 2 as const }));
    for (const before of [0, 1, 2, 3, 6]) {
      for (const misalign of [0, 3]) {
        const words = new Uint8Array(misalign + 8 * list.length);
        list.forEach((f, k) => encodePacket(f, words, misalign + 8 * k));
        const junk = new Uint8Array(8 * dirty.length);
        dirty.forEach((f, k) => encodePacket(f, junk, 8 * k));
        const b = new LarpixPacketBatch(before + list.length + 1); // capacity not a multiple of 4
        decodeWords(junk, 0, b.capacity, 8, { ioGroup: 9, ioChannel: 9, direction: 0 }, b);
        b.timestamp32.fill(0xffffffff); // high halves too
        b.clear();
        for (let t = 0; t < before; t++) b.pushTimestamp(1_700_000_000 + t, 5);
        const src = { ioGroup: 5, ioChannel: 6 };
        expect(decodeWords(words.subarray(misalign), 0, list.length, 8, src, b)).toBe(list.length);
        expectRows(b, before, words.subarray(misalign), 8, list.length);
        for (let t = 0; t < before; t++) {
          expect(b.type[t]).toBe(4);
          expect(b.timestamp[t]).toBe(BigInt(1_700_000_000 + t));
          expect([b.chipId[t], b.adc[t], b.register[t], b.counter[t], b.ioChannel[t]]).toEqual([
            0, 0, 0, 0, 0,
          ]);
        }
      }
    }
  });

  it("decodes back-to-back 7-byte packets like board words", () => {
    use();
    const list = packets(21, 5);
    const packed = new Uint8Array(7 * list.length);
    list.forEach((f, k) => encodePacket(f, packed, 7 * k));
    const b = new LarpixPacketBatch(32);
    b.pushTimestamp(1, 5);
    expect(decodeWords(packed, 0, list.length, 7, { ioGroup: 5, ioChannel: 6 }, b)).toBe(list.length);
    expectRows(b, 1, packed, 7, list.length);
  });

  it("places batches side by side in one buffer (a slab) without overlap", () => {
    use();
    const list = packets(37, 3);
    const words = new Uint8Array(8 * list.length);
    list.forEach((f, k) => encodePacket(f, words, 8 * k));
    const size = LarpixPacketBatch.bytesFor(list.length);
    const buffer = new ArrayBuffer(8 + 2 * size + 8);
    const a = new LarpixPacketBatch(list.length, { buffer, offset: 8 });
    const b = new LarpixPacketBatch(list.length, { buffer, offset: 8 + size });
    const src = { ioGroup: 5, ioChannel: 6 };
    decodeWords(words, 0, list.length, 8, src, a);
    decodeWords(words, 0, list.length, 8, src, b);
    expectRows(a, 0, words, 8, list.length);
    expectRows(b, 0, words, 8, list.length);
    expect(new Uint8Array(buffer, 0, 8)).toEqual(new Uint8Array(8));
    expect(new Uint8Array(buffer, 8 + 2 * size)).toEqual(new Uint8Array(8));
    expect(() => new LarpixPacketBatch(4, { buffer, offset: 4 })).toThrow(/8-byte aligned/);
    expect(() => new LarpixPacketBatch(4, { buffer, offset: buffer.byteLength - 8 })).toThrow(/do not fit/);
  });
});

describe("switching decoders on one batch", () => {
  it("leaves no stale field behind, whichever decoder wrote the rows before", () => {
    if (!nativeAddon) return;
    const list = packets(150, 21).map((f, k) => (k >= 32 && k < 48 ? { ...f, type: 0 as const } : f));
    const words = new Uint8Array(8 * list.length);
    list.forEach((f, k) => encodePacket(f, words, 8 * k));
    // All of other types; or data packets but one config write at row 37 (the native scan for the last one).
    const allOthers = packets(150, 22).map((f) => ({ ...f, type: (1 + (f.chipId % 3)) as 1 | 2 | 3 }));
    const oneConfig = packets(150, 23).map((f, k) => ({
      ...f,
      type: k === 37 ? (2 as const) : (0 as const),
    }));
    const src = { ioGroup: 5, ioChannel: 6 };
    for (const others of [allOthers, oneConfig]) {
      const junk = new Uint8Array(8 * others.length);
      others.forEach((f, k) => encodePacket(f, junk, 8 * k));
      for (const [first, second] of [
        [true, false],
        [false, true],
      ] as const) {
        const b = new LarpixPacketBatch(160);
        useNativeLarpixDecoder(first);
        decodeWords(junk, 0, others.length, 8, src, b);
        b.clear();
        useNativeLarpixDecoder(second);
        decodeWords(words, 0, list.length, 8, src, b);
        expectRows(b, 0, words, 8, list.length);
      }
    }
  });
});
