import { describe, expect, it } from "vitest";
import { isHutchError } from "../../core/index.js";
import { decodeTagMessage, encodeTagMessage } from "./tag-message.js";
import { packFramed } from "./framed-message.js";

describe("tag messages", () => {
  it("round-trip point values, detector status and frames (frames sent as raw, uncopied frames)", () => {
    const img = Float32Array.from({ length: 6 }, (_, i) => i + 0.5);
    const frames = encodeTagMessage("sacla", {
      tag: 123456,
      time: 1.7e9,
      points: { i0: 0.5, beam_status: 1, delay_motor: NaN },
      detectors: [
        { name: "mpccd1", status: "ok", gain: 1.2, frame: { dtype: "float32", shape: [2, 3], data: img } },
        { name: "mpccd2", status: "error", gain: 1, message: "readout timeout" },
      ],
    });
    expect(frames).toHaveLength(3);
    expect(frames[0]!.toString()).toBe("sacla/tag");
    expect(frames[2]!.buffer).toBe(img.buffer);
    const m = decodeTagMessage(frames.map((f) => new Uint8Array(f)));
    expect(m.tag).toBe(123456);
    expect(m.points.delay_motor).toBeNaN();
    expect([...(m.detectors[0]!.frame!.data as Float32Array)]).toEqual([...img]);
    expect(m.detectors[0]!.frame!.shape).toEqual([2, 3]);
    expect(m.detectors[1]).toMatchObject({ status: "error", message: "readout timeout" });
  });

  it("rejects malformed messages with HUTCH_ERR_WIRE naming the problem", () => {
    const bad = (frames: Uint8Array[], re: RegExp) => {
      try {
        decodeTagMessage(frames);
        throw new Error("accepted");
      } catch (e) {
        expect(isHutchError(e, "HUTCH_ERR_WIRE")).toBe(true);
        expect((e as Error).message).toMatch(re);
      }
    };
    bad([Buffer.from("x")], /at least 2 frames/);
    bad([Buffer.from("x"), Buffer.from([0xc1])], /not valid MessagePack|not a map/);
    bad(packFramed("x", "other", {}), /kind 'other'/);
    bad(packFramed("x", "beamline-tag", { tag: -1, time: 0, points: {}, detectors: [] }), /tag/);
    bad(
      packFramed("x", "beamline-tag", {
        tag: 1,
        time: 0,
        points: {},
        detectors: [{ name: "d", status: "ok", gain: 1 }],
      }),
      /detector 'd' has status ok but no float32/,
    );
    const f = packFramed("x", "beamline-tag", {
      tag: 1,
      time: 0,
      points: {},
      detectors: [
        {
          name: "d",
          status: "ok",
          gain: 1,
          frame: { dtype: "float32", shape: [2, 2], data: new Float32Array(4) },
        },
      ],
    });
    bad([f[0]!, f[1]!, f[2]!.subarray(0, 8)], /arrays\[0\]/);
  });
});
