import { describe, expect, it } from "vitest";
import { ErrorCode, RunFactory, StreamFactory, isHutchError, nd, topicOf } from "../core/index.js";
import { decodeDocument, encodeDocument } from "./wire.js";

describe("wire codec", () => {
  const run = RunFactory.open({ run: 3, instrument: "demo", plan: "count", config: { a: 1 } });
  const s = new StreamFactory(run.info, "wf", {
    adc: { dtype: "uint16", shape: [4] },
    ts: { dtype: "uint64", shape: [] },
  });

  it("round-trips an event page with raw frames, exact dtypes and shapes", () => {
    const page = s.page(new Float64Array([1.5, 2.5]), {
      adc: nd(new Uint16Array([1, 2, 3, 4, 5, 6, 7, 65535]), [2, 4]),
      ts: nd(new BigUint64Array([2n ** 63n, 1n])),
    });
    const frames = encodeDocument(topicOf("demo", page), page);
    expect(frames).toHaveLength(5);
    expect(frames[2]!.byteLength).toBe(16);
    const { topic, doc } = decodeDocument(frames);
    expect(topic).toBe("demo/wf/event-page");
    if (doc.kind !== "event-page") throw new Error("kind");
    expect(doc.seq).toBe(1);
    expect(doc.data.adc!.dtype).toBe("uint16");
    expect(doc.data.adc!.shape).toEqual([2, 4]);
    expect([...(doc.data.adc!.data as Uint16Array)]).toEqual([1, 2, 3, 4, 5, 6, 7, 65535]);
    expect([...(doc.data.ts!.data as BigUint64Array)]).toEqual([2n ** 63n, 1n]);
  });

  it("rejects malformed frames with a coded error that names the problem", () => {
    const start = run.start;
    const good = encodeDocument(topicOf("demo", start), start);
    const cases: [Uint8Array[], RegExp][] = [
      [[good[0]!], /at least 2 frames/],
      [[good[0]!, Buffer.from([0xc1])], /not valid MessagePack/],
      [[Buffer.from("demo/run/run-stop"), good[1]!], /does not end with the document kind/],
      [[good[0]!, good[1]!, Buffer.alloc(3)], /declares 0 array frame/],
    ];
    for (const [frames, msg] of cases) {
      let err: unknown;
      try {
        decodeDocument(frames);
      } catch (e) {
        err = e;
      }
      expect(isHutchError(err, ErrorCode.Wire)).toBe(true);
      expect((err as Error).message).toMatch(msg);
    }
  });
});
