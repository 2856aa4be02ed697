// LArPix v1 packet codec: hand-computed bit patterns, parity, round trips of every packet type, columnar decode.
import { describe, expect, it } from "vitest";
import {
  LARPIX_TYPE,
  encodePacket,
  fieldsOf,
  parseSndwordHex,
  readWord,
  sndwordHex,
  wordParity,
  type LarpixPacketFields,
} from "./larpix-packet.js";
import { LarpixPacketBatch, decodeWords } from "./larpix-packet-batch.js";
import { chipCode, chipKey, parseChipKey } from "./larpix-chip-key.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("LArPix v1 packet bits", () => {
  it("encodes a data packet to the hand-computed bytes", () => {
    // V = 7 bytes little-endian. type 0 (bits 1..0), chip 246 = 0xf6 at bits 9..2 -> 0x3d8, channel 5 at 16..10
    // -> 0x1400, timestamp 0x123456 at 40..17: low 15 bits 0x3456 << 17 = 0x68ac0000 -> lo = 0x68ac17d8;
    // high 9 bits 0x24 at hi bits 8..0, adc 0x2ab << 9 = 0x55600, fifo half << 19 = 0x80000 -> hi = 0x0d5624;
    // popcount(lo) + popcount(hi) = 14 + 10 = 24 is even, so the odd-parity bit (hi bit 21) is set: 0x2d5624.
    const b = encodePacket({
      type: 0,
      chipId: 246,
      channel: 5,
      timestamp: 0x123456,
      adc: 0x2ab,
      fifoHalf: 1,
    });
    expect(hex(b)).toBe("d817ac6824562d");
    // The same bytes as larpix-control's Packet_v1.bytes() (checked with an emulation of its bitarray code).
    expect(fieldsOf(readWord(b))).toEqual({
      type: 0,
      chipId: 246,
      channel: 5,
      timestamp: 0x123456,
      adc: 0x2ab,
      fifoHalf: 1,
      fifoFull: 0,
      parity: 1,
      validParity: true,
    });
  });

  it("sets only the parity bit for an all-zero packet", () => {
    // No bit set: odd parity needs bit 53 = hi bit 21 = byte 6 bit 5.
    expect(hex(encodePacket({ type: 0, chipId: 0 }))).toBe("00000000000020");
  });

  it("encodes config write, config read and test packets to their bytes", () => {
    // Config write (type 2) chip 246 register 32 value 40: lo = 2 | 0xf6 << 2 | 32 << 10 | 40 << 18 = 0x00a083da.
    expect(hex(encodePacket({ type: 2, chipId: 246, register: 32, value: 40 }))).toBe("da83a000000020");
    // Config read (type 3) chip 243 register 52 value 0xa5: lo = 3 | 0xf3 << 2 | 52 << 10 | 0xa5 << 18 = 0x0294d3cf.
    expect(hex(encodePacket({ type: 3, chipId: 243, register: 52, value: 0xa5 }))).toBe("cfd39402000000");
    // Test (type 1) chip 245 counter 0xbeef: bits 15..12 (0xb) at 13..10, bits 11..0 (0xeef) at 52..41.
    expect(hex(encodePacket({ type: 1, chipId: 245, counter: 0xbeef }))).toBe("d52f000000de3d");
    // Every field at its maximum.
    const max = {
      type: 0,
      chipId: 255,
      channel: 31,
      timestamp: 0xffffff,
      adc: 1023,
      fifoHalf: 1,
      fifoFull: 1,
    };
    expect(hex(encodePacket(max as LarpixPacketFields))).toBe("fc7ffeffffff1f");
  });

  it("round-trips every packet type and reports bad parity", () => {
    const packets: LarpixPacketFields[] = [
      { type: 0, chipId: 252, channel: 31, timestamp: 0xabcdef, adc: 1023, fifoHalf: 0, fifoFull: 1 },
      { type: 1, chipId: 243, counter: 0x1234 },
      { type: 2, chipId: 245, register: 62, value: 255 },
      { type: 3, chipId: 246, register: 0, value: 16 },
    ];
    for (const p of packets) {
      const good = fieldsOf(readWord(encodePacket(p)));
      expect(good).toMatchObject({ ...p, validParity: true });
      const flipped = 1 - good.parity!;
      const bad = fieldsOf(readWord(encodePacket({ ...p, parity: flipped })));
      expect(bad).toMatchObject({ ...p, parity: flipped, validParity: false });
    }
  });

  it("refuses values that do not fit their fields", () => {
    expect(() => encodePacket({ type: 0, chipId: 1, adc: 1024 })).toThrow(/adc 1024 does not fit in 10 bits/);
    expect(() => encodePacket({ type: 0, chipId: 256 })).toThrow(/chip id 256/);
    expect(() => encodePacket({ type: 0, chipId: 1, timestamp: 1 << 24 })).toThrow(/timestamp/);
  });

  it("computes parity over the 54 packet bits only", () => {
    expect(wordParity(0, 0)).toBe(0);
    expect(wordParity(1, 0)).toBe(1);
    expect(wordParity(0, 1 << 21)).toBe(1);
    expect(wordParity(0, 0xc00000)).toBe(0); // pad bits 54, 55 are not packet bits
  });

  it("writes and parses the SNDWORD argument as larpix-control does (0x00 + bytes last to first)", () => {
    const b = encodePacket({ type: 2, chipId: 246, register: 32, value: 40 });
    expect(sndwordHex(b)).toBe("0x0020000000a083da");
    expect(hex(parseSndwordHex("0x0020000000a083da"))).toBe(hex(b));
    expect(() => parseSndwordHex("0x0120000000a083da")).toThrow(/first byte/);
    expect(() => parseSndwordHex("hello")).toThrow(/16 hex digits/);
  });
});

describe("columnar decode", () => {
  it("decodes 8-byte board words into typed columns, aligned or not, with parity per packet", () => {
    const fields: LarpixPacketFields[] = [
      { type: 0, chipId: 246, channel: 5, timestamp: 0x123456, adc: 0x2ab, fifoHalf: 1 },
      { type: 1, chipId: 245, counter: 0xbeef },
      { type: 2, chipId: 252, register: 33, value: 7 },
      { type: 3, chipId: 243, register: 52, value: 0xa5, parity: 1 }, // bad parity: the good bit is 0
    ];
    for (const misalign of [0, 1]) {
      const buf = new Uint8Array(misalign + 8 * fields.length);
      fields.forEach((f, k) => encodePacket(f, buf, misalign + 8 * k));
      const b = new LarpixPacketBatch(16);
      expect(decodeWords(buf, misalign, fields.length, 8, { ioGroup: 2, ioChannel: 3 }, b)).toBe(4);
      expect([...b.type.subarray(0, 4)]).toEqual([0, 1, 2, 3]);
      expect([...b.chipId.subarray(0, 4)]).toEqual([246, 245, 252, 243]);
      expect([...b.channel.subarray(0, 4)]).toEqual([5, 0, 0, 0]);
      expect([...b.timestamp.subarray(0, 4)]).toEqual([0x123456n, 0n, 0n, 0n]);
      expect([...b.adc.subarray(0, 4)]).toEqual([0x2ab, 0, 0, 0]);
      expect([...b.fifoHalf.subarray(0, 4)]).toEqual([1, 0, 0, 0]);
      expect([...b.counter.subarray(0, 4)]).toEqual([0, 0xbeef, 0, 0]);
      expect([...b.register.subarray(0, 4)]).toEqual([0, 0, 33, 52]);
      expect([...b.value.subarray(0, 4)]).toEqual([0, 0, 7, 0xa5]);
      expect([...b.validParity.subarray(0, 4)]).toEqual([1, 1, 1, 0]);
      expect([...b.ioGroup.subarray(0, 4)]).toEqual([2, 2, 2, 2]);
      expect([...b.direction.subarray(0, 4)]).toEqual([1, 1, 1, 1]);
      for (let i = 0; i < 4; i++) expect(hex(b.encodeRow(i))).toBe(hex(encodePacket(fields[i]!)));
    }
  });

  it("stops at the batch capacity; a row reused after clear keeps nothing of its previous packet", () => {
    const buf = new Uint8Array(8 * 3);
    encodePacket({ type: 2, chipId: 1, register: 9, value: 9 }, buf, 0);
    encodePacket({ type: 2, chipId: 1, register: 9, value: 9 }, buf, 8);
    encodePacket({ type: 0, chipId: 1, channel: 1, adc: 3 }, buf, 16);
    const b = new LarpixPacketBatch(2);
    expect(decodeWords(buf, 0, 3, 8, { ioGroup: 1, ioChannel: 1 }, b)).toBe(2);
    expect(b.free).toBe(0);
    b.clear();
    expect(decodeWords(buf, 16, 1, 8, { ioGroup: 1, ioChannel: 1 }, b)).toBe(1);
    expect(b.register[0]).toBe(0); // the config packet's register does not leak into the data packet's row
    expect(b.adc[0]).toBe(3);
  });

  it("refuses a count that overruns the buffer", () => {
    expect(() =>
      decodeWords(new Uint8Array(10), 0, 2, 8, { ioGroup: 1, ioChannel: 1 }, new LarpixPacketBatch(4)),
    ).toThrow(/overrun 10 bytes/);
  });
});

describe("chip keys", () => {
  it("formats, parses and codes io_group-io_channel-chip_id", () => {
    expect(chipKey(1, 1, 246)).toBe("1-1-246");
    expect(parseChipKey(" 2-3-243 ")).toEqual({ ioGroup: 2, ioChannel: 3, chipId: 243 });
    expect(chipCode(1, 1, 246)).toBe(0x0101f6);
    expect(() => parseChipKey("1-1")).toThrow(/chip key '1-1'/);
    expect(() => parseChipKey("1-1-300")).toThrow(/0\.\.255/);
  });

  it("has the type codes of LArPix+HDF5 v1.0", () => {
    expect(LARPIX_TYPE).toEqual({
      data: 0,
      test: 1,
      configWrite: 2,
      configRead: 3,
      timestamp: 4,
      message: 5,
    });
  });
});
