// Board messages (8-byte header + 8-byte words) and the larpix-daq record stream: bytes, round trips, rejections.
import { describe, expect, it } from "vitest";
import {
  BOARD_REJECTIONS,
  encodeDataMessage,
  encodeHeartbeatMessage,
  encodeTimestampMessage,
  readBoardMessage,
} from "./larpix-board-message.js";
import {
  DAQ_RECORD_BYTES,
  daqRecordsProblem,
  decodeDaqRecords,
  encodeDaqRecords,
} from "./larpix-daq-record.js";
import { encodePacket } from "./larpix-packet.js";
import { LarpixPacketBatch, decodeWords } from "./larpix-packet-batch.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("board messages", () => {
  it("matches larpix-control's documented example: header 01 00 'D' io channel, then the word and a zero byte", () => {
    // larpix-control's dataserver_message_encode docstring: a default packet with chip key 1-1-1 encodes as
    // b'\x01\x00D\x01\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00' (parity bit 0; the chip id's one set bit
    // already makes the count odd, so the parity is valid).
    const msg = encodeDataMessage(1, encodePacket({ type: 0, chipId: 1, parity: 0 }));
    expect(hex(msg)).toBe("0100440100000000" + "0400000000000000");
    const info = readBoardMessage(msg);
    expect(info).toEqual({ kind: "data", ioChannel: 1, packets: 1 });
    const b = new LarpixPacketBatch(4);
    decodeWords(msg, 8, 1, 8, { ioGroup: 7, ioChannel: 1 }, b);
    expect([b.chipId[0], b.validParity[0], b.ioGroup[0]]).toEqual([1, 1, 7]);
  });

  it("encodes timestamp and heartbeat messages and reads them back", () => {
    const t = encodeTimestampMessage(1_700_000_000);
    expect(hex(t)).toBe("0100540000000000" + "00f1536500000000"); // 1700000000 = 0x6553f100, little-endian
    expect(readBoardMessage(t)).toEqual({ kind: "timestamp", time: 1_700_000_000 });
    expect(hex(encodeHeartbeatMessage())).toBe("0100484842000000");
    expect(readBoardMessage(encodeHeartbeatMessage())).toEqual({ kind: "heartbeat" });
  });

  it("rejects garbage with a reason, never throwing", () => {
    const r = (b: number[]) => readBoardMessage(Uint8Array.from(b));
    expect(r([1, 0, 0x44])).toMatchObject({ kind: "rejected", reason: BOARD_REJECTIONS.short });
    expect(r([2, 0, 0x44, 1, 0, 0, 0, 0])).toMatchObject({ reason: BOARD_REJECTIONS.version });
    expect(r([1, 0, 0x58, 1, 0, 0, 0, 0])).toMatchObject({ reason: BOARD_REJECTIONS.kind, detail: /0x58/ });
    expect(r([1, 0, 0x44, 1, 0, 0, 0, 0, 1, 2, 3])).toMatchObject({ reason: BOARD_REJECTIONS.length });
    expect(r([1, 0, 0x54, 0, 0, 0, 0, 0, 1])).toMatchObject({ reason: BOARD_REJECTIONS.length });
    expect(r([1, 0, 0x44, 3, 0, 0, 0, 0])).toEqual({ kind: "data", ioChannel: 3, packets: 0 });
  });
});

describe("DAQ record stream", () => {
  it("round-trips packets of every type and timestamp rows through 10-byte records", () => {
    const words = new Uint8Array(8 * 4);
    encodePacket(
      { type: 0, chipId: 246, channel: 5, timestamp: 0x123456, adc: 0x2ab, fifoHalf: 1 },
      words,
      0,
    );
    encodePacket({ type: 1, chipId: 245, counter: 0xbeef }, words, 8);
    encodePacket({ type: 2, chipId: 252, register: 33, value: 7 }, words, 16);
    encodePacket({ type: 3, chipId: 243, register: 52, value: 0xa5, parity: 1 }, words, 24);
    const a = new LarpixPacketBatch(8);
    decodeWords(words, 0, 4, 8, { ioGroup: 1, ioChannel: 2 }, a);
    a.pushTimestamp(1_700_000_123, 1);
    const bytes = encodeDaqRecords(a);
    expect(bytes.byteLength).toBe(3 + 5 * DAQ_RECORD_BYTES);
    // header 00 01 '/', then kind 0, the 7 UART bytes, io group 1, io channel 2
    expect(hex(bytes.subarray(0, 13))).toBe("00012f" + "00" + "d817ac6824562d" + "0102");
    expect(hex(bytes.subarray(43, 53))).toBe("01" + "7bf1536500000000".slice(0, 14) + "0100");
    const b = new LarpixPacketBatch(8);
    expect(decodeDaqRecords(bytes, b)).toBe(5);
    for (const k of [
      "type",
      "chipId",
      "channel",
      "adc",
      "counter",
      "register",
      "value",
      "validParity",
    ] as const) {
      expect([...b[k].subarray(0, 5)]).toEqual([...a[k].subarray(0, 5)]);
    }
    expect([...b.timestamp.subarray(0, 5)]).toEqual([0x123456n, 0n, 0n, 0n, 1_700_000_123n]);
    expect([...b.ioChannel.subarray(0, 5)]).toEqual([2, 2, 2, 2, 0]);
  });

  it("names what is wrong with a bad stream", () => {
    expect(daqRecordsProblem(Uint8Array.of(0, 1, 0x2e))).toMatch(/header/);
    expect(daqRecordsProblem(Uint8Array.of(0, 1, 0x2f, 0))).toMatch(/10-byte records/);
    const bad = Uint8Array.of(0, 1, 0x2f, 9, 0, 0, 0, 0, 0, 0, 0, 1, 1);
    expect(() => decodeDaqRecords(bad, new LarpixPacketBatch(2))).toThrow(/record 0 has unknown kind 9/);
  });
});
