import { Decoder, Encoder } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { ErrorCode, isHutchError, nd } from "../core/index.js";
import { packHeader } from "./wire-pack-header.js";
import { NdRef, unpackHeader } from "./wire-unpack-header.js";

// The reference: @msgpack/msgpack. Without useBigInt64 it writes safe integers past 32 bits as ints, as the
// wire format does (with it, as floats); bigints are checked by decoding instead.
const refEncoder = new Encoder({ ignoreUndefined: true });
const bigEncoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });
const refDecoder = new Decoder({ useBigInt64: true });

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NUMBERS = [
  0,
  1,
  127,
  128,
  255,
  256,
  65535,
  65536,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  -1,
  -32,
  -33,
  -128,
  -129,
  -32768,
  -32769,
  -(2 ** 31),
  -(2 ** 31) - 1,
  -(2 ** 53 - 1),
  0.5,
  -1.5,
  1e300,
  2 ** 53,
  NaN,
  Infinity,
  -Infinity,
  -0,
];
const BIGINTS = [
  0n,
  5n,
  -5n,
  2n ** 53n,
  2n ** 53n + 1n,
  2n ** 63n,
  2n ** 64n - 1n,
  -(2n ** 63n),
  -(2n ** 53n) - 1n,
];
const STRINGS = [
  "",
  "a",
  "run-start",
  "$nd",
  "é",
  "漢字",
  "🙂 emoji",
  "x".repeat(31),
  "y".repeat(32),
  "z".repeat(41),
  "w".repeat(300),
  "c575c379-fff6-40e2-b867-18e5f58ff80d",
];

function randomValue(r: () => number, depth: number, bigints = true): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const k = Math.floor(r() * (depth > 3 ? 6 : 9));
  switch (k) {
    case 0:
      return pick(NUMBERS);
    case 1:
      return bigints ? pick(BIGINTS) : pick(NUMBERS);
    case 2:
      return pick(STRINGS);
    case 3:
      return pick([true, false, null]);
    case 4:
      return Math.floor(r() * 2 ** 40) - 2 ** 39;
    case 5:
      return r() * 1e6;
    case 6:
      return Array.from({ length: Math.floor(r() * 20) }, () =>
        r() < 0.1 ? undefined : randomValue(r, depth + 1, bigints),
      );
    case 7:
      return new Uint8Array(Math.floor(r() * 300)).map((_, i) => i);
    default: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 20);
      for (let i = 0; i < n; i++)
        o[`${pick(STRINGS)}${i}`] = r() < 0.1 ? undefined : randomValue(r, depth + 1, bigints);
      return o;
    }
  }
}

/**
 * The reference header: the document with arrays replaced by placeholders, encoded by @msgpack/msgpack. Every
 * array of `doc` must be a whole allocation of its own (so it is body frame `i` at offset 0).
 */
function referenceHeader(kind: string, doc: unknown, origin?: string): Uint8Array {
  const arrays: unknown[] = [];
  const strip = (v: unknown): unknown => {
    if (typeof v !== "object" || v === null) return v;
    if (Array.isArray(v)) return v.map(strip);
    if ("dtype" in v && "data" in v && ArrayBuffer.isView((v as { data: unknown }).data)) {
      const a = v as unknown as { dtype: string; shape: number[] };
      arrays.push({ dtype: a.dtype, shape: a.shape, frame: arrays.length, offset: 0 });
      return { $nd: arrays.length - 1 };
    }
    if (ArrayBuffer.isView(v)) return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x)]));
  };
  const body = strip(doc);
  return refEncoder.encode(
    origin === undefined ? { v: 2, kind, doc: body, arrays } : { v: 2, kind, doc: body, arrays, origin },
  );
}

/** What the reader promises: exact bigints become numbers, undefined in arrays becomes null. */
function normalise(v: unknown): unknown {
  if (typeof v === "bigint") return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v;
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(normalise);
  if (typeof v === "object" && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
  return v === undefined ? null : v;
}

describe("wire MessagePack", () => {
  it("writes headers byte for byte as @msgpack/msgpack does", () => {
    const r = rng(1);
    for (let i = 0; i < 400; i++) {
      const doc = { kind: "log", payload: randomValue(r, 0, false), arr: nd(new Uint16Array(3)) };
      const origin = i % 2 ? "node-1" : undefined;
      const frames: Buffer[] = [];
      const mine = packHeader("log", doc, origin, frames);
      expect([...mine], `doc ${i}`).toEqual([...referenceHeader("log", doc, origin)]);
      expect(frames).toHaveLength(1);
    }
  });

  it("writes bigints as int64/uint64 and refuses those past 64 bits", () => {
    for (const b of BIGINTS) {
      const bytes = packHeader("log", { b }, undefined, []);
      expect(refDecoder.decode(bytes)).toMatchObject({ doc: { b } });
    }
    expect(() => packHeader("log", { b: 2n ** 64n }, undefined, [])).toThrow(/does not fit in 64 bits/);
    expect(() => packHeader("log", { f: () => 1 }, undefined, [])).toThrow(/cannot encode a function/);
  });

  it("reads what @msgpack/msgpack writes, with exact integers", () => {
    const r = rng(2);
    const float32 = new Encoder({ useBigInt64: true, forceFloat32: true });
    for (let i = 0; i < 400; i++) {
      const v = randomValue(r, 0);
      for (const bytes of [bigEncoder.encode([v]), float32.encode([v])]) {
        const { header, refs } = unpackHeader(bytes);
        expect(normalise(header), `value ${i}`).toEqual(normalise(refDecoder.decode(bytes)));
        expect(refs).toEqual([]);
      }
    }
    const big = Array.from({ length: 70_000 }, (_, i) => i);
    expect(unpackHeader(refEncoder.encode({ big })).header).toEqual({ big });
  });

  it("records placeholders where they sit and refuses malformed ones", () => {
    const bytes = refEncoder.encode({ doc: { t: { $nd: 0 }, xs: [1, { $nd: 1 }] }, other: { $nd: 0, x: 1 } });
    const { header, refs } = unpackHeader(bytes);
    expect(refs.map(([, key, ref]) => [key, ref.i])).toEqual([
      ["t", 0],
      [1, 1],
    ]);
    expect((header as { other: unknown }).other).toEqual({ $nd: 0, x: 1 });
    expect(refs[0]![2]).toBeInstanceOf(NdRef);
    for (const bad of [{ $nd: 1.5 }, { $nd: -1 }, { $nd: "0" }]) {
      expect(() => unpackHeader(refEncoder.encode({ x: bad }))).toThrow(/bad array reference/);
    }
  });

  it("reads repeated and look-alike strings exactly (the text cache confirms every byte)", () => {
    const a = "aaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbbbbbb"; // same length, first, middle and last byte as b
    const b = "aaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbbxbbb";
    const u = "ééééééééééééééééééééé"; // 42 bytes of UTF-8, 21 characters
    for (let i = 0; i < 3; i++) {
      expect(unpackHeader(refEncoder.encode([a, b, u, b, a])).header).toEqual([a, b, u, b, a]);
      expect(unpackHeader(Buffer.from([0xb4, ...new Array<number>(20).fill(0xff)])).header).toBe(
        "\ufffd".repeat(20),
      );
    }
  });

  it("keeps a __proto__ key as data, not as the prototype", () => {
    const bytes = Buffer.from([0x81, 0xa9, ...Buffer.from("__proto__"), 0x81, 0xa1, 0x61, 0x01]);
    const o = unpackHeader(bytes).header as Record<string, unknown>;
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(["__proto__"]);
    expect((o as { a?: unknown }).a).toBeUndefined();
  });

  it("refuses hostile input with HUTCH_ERR_WIRE: huge counts, deep nesting, truncation, extension types", () => {
    const cases: [number[], RegExp][] = [
      [[0xdd, 0xff, 0xff, 0xff, 0xff, 0x00], /longer than the header/],
      [[0xdf, 0xff, 0xff, 0xff, 0xff, 0x00], /longer than the header/],
      [[0xdb, 0xff, 0xff, 0xff, 0xff, 0x61], /truncated/],
      [new Array(200).fill(0x91), /deeper than 100/],
      [[0xd4, 0x01, 0x02], /unsupported MessagePack type 0xd4/],
      [[0xc1], /unsupported/],
      [[0x81, 0x01, 0x02], /map key is not a string/],
      [[0x81, 0xd9], /longer than the header/],
      [[0x81, 0xd9, 0x05, 0x61], /truncated/],
      [[0x01, 0x02], /1 bytes after the header/],
      [[], /truncated/],
    ];
    for (const [bytes, msg] of cases) {
      let err: unknown;
      try {
        unpackHeader(Uint8Array.from(bytes));
      } catch (e) {
        err = e;
      }
      expect(isHutchError(err, ErrorCode.Wire), String(bytes.slice(0, 4))).toBe(true);
      expect((err as Error).message).toMatch(msg);
    }
  });

  it("never throws anything but HUTCH_ERR_WIRE on mutated headers", () => {
    const r = rng(3);
    for (let i = 0; i < 3000; i++) {
      const good = bigEncoder.encode({ v: 1, kind: "log", doc: randomValue(r, 2), arrays: [] });
      const b = Buffer.from(good);
      const cut = r() < 0.3 ? Math.floor(r() * b.length) : b.length;
      for (let j = 0; j < 3; j++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      try {
        unpackHeader(b.subarray(0, cut));
      } catch (e) {
        expect(isHutchError(e, ErrorCode.Wire), `case ${i}: ${(e as Error).message}`).toBe(true);
      }
    }
  });
});
