// Tests of ReadoutPage: rows decoded in place, sealed into exact-size columns; pages never share bytes.
import { describe, expect, it } from "vitest";
import { decodeReadouts, encodeReadout, TARGET_C_READOUT_BYTES } from "../../codecs/index.js";
import { ReadoutPage } from "./readout-page.js";

/** A datagram of `k` readouts of timestamps first, first+1, ... and pixel i = word 0x8000 + i + first. */
function datagram(k: number, first: number): Buffer {
  const b = Buffer.alloc(k * TARGET_C_READOUT_BYTES);
  for (let j = 0; j < k; j++) {
    const words = Array.from({ length: 64 }, (_, i) => 0x8000 + i + first + j);
    encodeReadout(b, j * TARGET_C_READOUT_BYTES, BigInt(first + j), BigInt(first + j + 1), words);
  }
  return b;
}

describe("ReadoutPage", () => {
  it("seals the rows written into exact-size columns of one region, then starts after them", () => {
    const page = new ReadoutPage(1000);
    expect(page.fits(1)).toBe(false); // nothing open yet
    page.open(3);
    expect(page.fits(3)).toBe(true);
    decodeReadouts(datagram(3, 100), 4, page);
    decodeReadouts(datagram(2, 200), 9, page);
    const a = page.seal(12.5);
    expect(page.n).toBe(0);
    expect(page.fits(1)).toBe(false);
    expect([...a.module]).toEqual([4, 4, 4, 9, 9]);
    expect([...a.timestamp]).toEqual([100n, 101n, 102n, 200n, 201n]);
    expect([...a.auxTimestamp]).toEqual([101n, 102n, 103n, 201n, 202n]);
    expect([...a.time]).toEqual([12.5, 12.5, 12.5, 12.5, 12.5]);
    expect(a.data.length).toBe(5 * 64);
    expect(a.data[3 * 64 + 7]).toBe(Math.fround((200 + 7) * 0.0763));
    page.open(1);
    decodeReadouts(datagram(1, 300), 1, page);
    const b = page.seal(13);
    // the second page lies after the first in the same slab: the first is left intact
    expect(b.data.buffer).toBe(a.data.buffer);
    expect(b.data.byteOffset).toBeGreaterThanOrEqual(a.module.byteOffset + a.module.byteLength);
    expect([...a.timestamp]).toEqual([100n, 101n, 102n, 200n, 201n]);
    expect(b.data[0]).toBe(Math.fround(300 * 0.0763));
  });

  it("holds at most `limit` rows and forgets discarded rows", () => {
    const page = new ReadoutPage(4);
    page.open(2);
    expect(page.capacity).toBe(4);
    decodeReadouts(datagram(3, 1), 0, page);
    expect(page.fits(2)).toBe(false);
    page.discard();
    decodeReadouts(datagram(1, 50), 2, page);
    const s = page.seal(1);
    expect([...s.timestamp]).toEqual([50n]);
  });
});
