import { Encoder } from "@msgpack/msgpack";
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
      [[good[0]!, good[1]!, Buffer.alloc(3)], /use 0 body frame\(s\), message has 1/, "frames"],
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

  /** Decodes, returning the rejection reason and message (or the document). */
  const tryDecode = (frames: Uint8Array[]) => {
    try {
      return { doc: decodeDocument(frames).doc };
    } catch (err) {
      return { reason: wireRejectReason(err), message: (err as Error).message };
    }
  };

  it("sends the columns of one allocation as one body frame, at their offsets, and views it on decode", () => {
    const buf = new ArrayBuffer(8 * 2 + 2 * 8 + 8 * 2 + 3);
    const time = new Float64Array(buf, 0, 2).fill(1.5);
    const adc = new Uint16Array(buf, 16, 8);
    adc.set([1, 2, 3, 4, 5, 6, 7, 8]);
    const ts = new BigUint64Array(buf, 32, 2).fill(2n ** 63n);
    const page = s.page(time, { adc: nd(adc, [2, 4]), ts: nd(ts) });
    const frames = encodeDocument(topicOf("demo", page), page);
    expect(frames).toHaveLength(3);
    expect(frames[2]!.byteLength).toBe(48);
    const doc = decodeDocument(frames).doc;
    if (doc.kind !== "event-page") throw new Error("kind");
    expect(doc.data.adc!.data.buffer).toBe(frames[2]!.buffer);
    expect([...(doc.data.adc!.data as Uint16Array)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...(doc.data.ts!.data as BigUint64Array)]).toEqual([2n ** 63n, 2n ** 63n]);
    expect([...doc.time.data]).toEqual([1.5, 1.5]);
  });

  it("gives arrays of one buffer that lie apart, or start unaligned, frames that keep them aligned", () => {
    const buf = new ArrayBuffer(4096);
    const time = new Float64Array(buf, 8, 1).fill(7);
    const far = new Uint16Array(buf, 1024, 4).fill(9);
    const page = s.page(time, { adc: nd(far, [1, 4]), ts: nd(new BigUint64Array([3n])) });
    const frames = encodeDocument(topicOf("demo", page), page);
    expect(frames.map((f) => f.byteLength)).toEqual([frames[0]!.byteLength, frames[1]!.byteLength, 8, 8, 8]);
    const bytes = new Uint8Array(buf, 3, 16);
    const s2 = new StreamFactory(run.info, "odd", {
      b: { dtype: "uint8", shape: [16] },
      adc: { dtype: "uint16", shape: [2] },
    });
    const odd = s2.event({ b: nd(bytes), adc: nd(new Uint16Array(buf, 20, 2).fill(5)) });
    const f2 = encodeDocument(topicOf("demo", odd), odd);
    expect(f2).toHaveLength(3);
    expect(f2[2]!.byteOffset % 8).toBe(0);
    const ev = decodeDocument(f2).doc;
    if (ev.kind !== "event") throw new Error("kind");
    expect([...(ev.data.adc as { data: Uint16Array }).data]).toEqual([5, 5]);
  });

  it("copies an array whose frame arrives unaligned, once, and decodes it exactly", () => {
    const page = s.page(new Float64Array([2.5]), {
      adc: nd(new Uint16Array([1, 2, 3, 4]), [1, 4]),
      ts: nd(new BigUint64Array([5n])),
    });
    const frames = encodeDocument(topicOf("demo", page), page).map((f) => {
      const b = Buffer.alloc(f.byteLength + 1);
      f.copy(b, 1);
      return b.subarray(1);
    });
    const doc = decodeDocument(frames).doc;
    if (doc.kind !== "event-page") throw new Error("kind");
    expect([...doc.time.data]).toEqual([2.5]);
    expect([...(doc.data.ts!.data as BigUint64Array)]).toEqual([5n]);
  });

  it("still reads version 1 (one frame per array) and names an unknown version", () => {
    const enc = new Encoder();
    const time = new Float64Array([1]);
    const v1 = {
      v: 1,
      kind: "event-page",
      doc: {
        ...s.page(time, { adc: nd(new Uint16Array(4), [1, 4]) }),
        time: { $nd: 0 },
        data: { adc: { $nd: 1 } },
      },
      arrays: [
        { dtype: "float64", shape: [1] },
        { dtype: "uint16", shape: [1, 4] },
      ],
    };
    const topic = Buffer.from("demo/wf/event-page");
    const body = [Buffer.from(time.buffer), Buffer.alloc(8)];
    const ok = tryDecode([topic, Buffer.from(enc.encode(v1)), ...body]);
    expect(ok.doc?.kind).toBe("event-page");
    expect(tryDecode([topic, Buffer.from(enc.encode({ ...v1, v: 3 })), ...body])).toMatchObject({
      reason: "version",
      message: expect.stringMatching(/wire version 3, this reader reads versions 1 and 2/) as unknown,
    });
    expect(tryDecode([topic, Buffer.from(enc.encode(v1)), body[0]!])).toMatchObject({ reason: "frames" });
  });

  it("rejects version 2 arrays that point outside their frames, and frames no array uses", () => {
    const page = s.page(new Float64Array([1]), {
      adc: nd(new Uint16Array(4), [1, 4]),
      ts: nd(new BigUint64Array(1)),
    });
    const [topic, header, ...body] = encodeDocument(topicOf("demo", page), page);
    const cases: [Uint8Array[], WireRejectReason, RegExp][] = [
      [[topic!, header!, ...body, Buffer.alloc(8)], "frames", /use 3 body frame\(s\), message has 4/],
      [[topic!, header!, body[0]!, body[1]!], "frames", /arrays\[2\] is in body frame 2, message has 2/],
      [
        [topic!, header!, body[0]!, Buffer.alloc(7), body[2]!],
        "arrays",
        /needs 8 bytes at offset 0 of body frame 1/,
      ],
    ];
    for (const [frames, reason, message] of cases) {
      const r = tryDecode(frames);
      expect(r.reason).toBe(reason);
      expect(r.message).toMatch(message);
    }
  });
});
