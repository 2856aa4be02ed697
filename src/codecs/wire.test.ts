import { describe, expect, it } from "vitest";
import {
  ErrorCode,
  EventPageSchema,
  RunFactory,
  StreamFactory,
  isHutchError,
  nd,
  topicOf,
} from "../core/index.js";
import {
  decodeDocument,
  encodeDocument,
  fastEventPage,
  wireRejectReason,
  type WireRejectReason,
} from "./wire.js";

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
    const cases: [Uint8Array[], RegExp, WireRejectReason][] = [
      [[good[0]!], /at least 2 frames/, "frames"],
      [[good[0]!, Buffer.from([0xc1])], /not valid MessagePack/, "header"],
      [[Buffer.from("demo/run/run-stop"), good[1]!], /does not end with the document kind/, "topic"],
      [[Buffer.from("demo/run/xrun-start"), good[1]!], /does not end with the document kind/, "topic"],
      [[good[0]!, good[1]!, Buffer.alloc(3)], /declares 0 array frame/, "frames"],
    ];
    for (const [frames, msg, reason] of cases) {
      let err: unknown;
      try {
        decodeDocument(frames);
      } catch (e) {
        err = e;
      }
      expect(isHutchError(err, ErrorCode.Wire)).toBe(true);
      expect((err as Error).message).toMatch(msg);
      expect(wireRejectReason(err)).toBe(reason);
    }
  });

  it("carries the origin node id in the header, and omits it when unset", () => {
    const frames = encodeDocument("demo/run/run-start", run.start, { origin: "sat1" });
    expect(decodeDocument(frames).origin).toBe("sat1");
    expect("origin" in decodeDocument(encodeDocument("demo/run/run-start", run.start))).toBe(false);
  });

  it("keeps integers exact: numbers within 2^53, bigints beyond, arrays untouched", () => {
    const ev = s.event({ adc: nd(new Uint16Array([1, 2, 3, 4])), ts: 2n ** 60n + 3n });
    const small = s.event({ adc: nd(new Uint16Array(4)), ts: 5n });
    const a = decodeDocument(encodeDocument(topicOf("demo", ev), ev)).doc;
    const b = decodeDocument(encodeDocument(topicOf("demo", small), small)).doc;
    if (a.kind !== "event" || b.kind !== "event") throw new Error("kind");
    expect(a.data.ts).toBe(2n ** 60n + 3n);
    expect(b.data.ts).toBe(5);
    expect(a.seq).toBe(ev.seq);
  });

  it("views array frames without copying", () => {
    const page = s.page(new Float64Array([1]), {
      adc: nd(new Uint16Array(4), [1, 4]),
      ts: nd(new BigUint64Array(1)),
    });
    const frames = encodeDocument(topicOf("demo", page), page);
    const doc = decodeDocument(frames).doc;
    if (doc.kind !== "event-page") throw new Error("kind");
    expect(doc.data.adc!.data.buffer).toBe(frames[3]!.buffer);
  });

  it("fast page validation agrees with EventPageSchema on valid and broken pages", () => {
    const page = s.page(new Float64Array([1, 2]), {
      adc: nd(new Uint16Array(8), [2, 4]),
      ts: nd(new BigUint64Array(2)),
    });
    const variants: Record<string, unknown>[] = [
      { ...page },
      { ...page, extra: 1 },
      { ...page, kind: "event" },
      { ...page, descriptor: "" },
      { ...page, runUid: 3 },
      { ...page, stream: "a/b" },
      { ...page, seq: 0 },
      { ...page, seq: 1.5 },
      { ...page, seq: 2n ** 60n },
      { ...page, n: -1 },
      { ...page, n: 3 },
      { ...page, time: nd(new Float32Array(2)) },
      { ...page, time: { dtype: "float64", shape: [3], data: new Float64Array(2) } },
      { ...page, time: [1, 2] },
      { ...page, data: { adc: nd(new Uint16Array(12), [3, 4]) } },
      { ...page, data: { adc: { dtype: "int3", shape: [2], data: new Uint8Array(2) } } },
      { ...page, data: { adc: 5 } },
      { ...page, data: [] },
      { ...page, data: {} },
    ];
    for (const [i, v] of variants.entries()) {
      const z = EventPageSchema.safeParse(v);
      const f = fastEventPage(v);
      expect(f !== undefined, `variant ${i}`).toBe(z.success);
      if (z.success) expect(f, `variant ${i}`).toEqual(z.data);
    }
  });

  it("puts a page's time in frame 2 and its fields after it, in field order", () => {
    const page = s.page(new Float64Array([7]), {
      ts: nd(new BigUint64Array([9n])),
      adc: nd(new Uint16Array(4), [1, 4]),
    });
    const frames = encodeDocument(topicOf("demo", page), page);
    expect(new Float64Array(frames[2]!.buffer, frames[2]!.byteOffset, 1)[0]).toBe(7);
    expect(frames[3]!.byteLength).toBe(8);
    expect(frames[4]!.byteLength).toBe(8);
  });
});
