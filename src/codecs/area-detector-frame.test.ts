// Unit tests of the area-detector link codec: frames and JSON messages through any TCP segmentation; bad input.
import { describe, expect, it } from "vitest";
import { isHutchError } from "../core/index.js";
import {
  AD_PREAMBLE_BYTES,
  AdFrameFlags,
  AdStreamParser,
  encodeAdFrame,
  encodeAdJson,
  type AdFrameMeta,
} from "./area-detector-frame.js";

const meta: AdFrameMeta = {
  frameNumber: 7,
  triggerNumber: 5,
  flags: AdFrameFlags.triggered | AdFrameFlags.shot,
  width: 4,
  height: 3,
  gain: 2,
  binning: 1,
  readoutUs: 66_700,
  time: 1_700_000_000.25,
};

function collect() {
  const frames: [AdFrameMeta, Uint16Array][] = [];
  const json: unknown[] = [];
  const p = new AdStreamParser({ frame: (m, px) => frames.push([m, px]), json: (j) => json.push(j) });
  return { p, frames, json };
}

describe("area-detector link codec", () => {
  it("round-trips frames and JSON messages split at every byte and coalesced", () => {
    const px = Uint16Array.from({ length: 12 }, (_, i) => i * 1000 + 1);
    const bytes = Buffer.concat([
      encodeAdJson({ t: "hello", width: 4 }),
      ...encodeAdFrame(meta, px),
      ...encodeAdFrame({ ...meta, frameNumber: 8, flags: AdFrameFlags.freeRun }, px),
    ]);
    const a = collect();
    for (const b of bytes) a.p.push(Uint8Array.of(b));
    const b = collect();
    b.p.push(bytes);
    for (const c of [a, b]) {
      expect(c.json).toEqual([{ t: "hello", width: 4 }]);
      expect(c.frames.map(([m]) => m)).toEqual([
        meta,
        { ...meta, frameNumber: 8, flags: AdFrameFlags.freeRun },
      ]);
      expect([...c.frames[1]![1]]).toEqual([...px]);
    }
    expect(a.frames[0]![1]).not.toBe(a.frames[1]![1]); // each frame owns its pixels
  });

  it("refuses bad magic, a size that does not match the shape, and oversize frames", () => {
    const bad = (bytes: Buffer) => {
      try {
        collect().p.push(bytes);
        return "accepted";
      } catch (e) {
        return isHutchError(e, "HUTCH_ERR_WIRE") ? e.message : String(e);
      }
    };
    expect(bad(Buffer.alloc(16))).toMatch(/bad magic/);
    const [h] = encodeAdFrame(meta, new Uint16Array(12));
    const wrong = Buffer.from(h);
    wrong.writeUInt32LE(10, 12);
    expect(bad(Buffer.concat([wrong, Buffer.alloc(10)]))).toMatch(/says 4 x 3 but carries 10 bytes/);
    const huge = Buffer.from(h);
    huge.writeUInt32LE(2 ** 31, 12);
    expect(bad(huge.subarray(0, AD_PREAMBLE_BYTES))).toMatch(/is not valid/);
  });
});
