// Unit tests of the JSON stream splitter: unframed raw JSON, NDJSON, split and coalesced segments, garbage, limits.
import { describe, expect, it } from "vitest";
import { JsonMessageSplitter, type SplitItem } from "./area-detector-json-splitter.js";

const texts = (items: SplitItem[]) => items.map((i) => (i.kind === "message" ? i.text : `ERR ${i.reason}`));
const enc = (s: string) => Buffer.from(s, "utf8");

describe("JsonMessageSplitter", () => {
  it("takes one raw JSON object sent in one piece, with no newline (the MEC DAQ)", () => {
    const s = new JsonMessageSplitter();
    const out = s.push(enc('{"command": "arm", "experiment": "e"}'));
    expect(out).toEqual([
      { kind: "message", text: '{"command": "arm", "experiment": "e"}', newline: undefined },
    ]);
  });

  it("reassembles an object split at every byte, braces and quotes inside strings included", () => {
    const msg = '{"a": "x}{\\"y", "b": {"c": [1, {"d": 2}]}, "e": "é"}';
    const s = new JsonMessageSplitter();
    const out: SplitItem[] = [];
    for (const byte of enc(msg)) out.push(...s.push(Uint8Array.of(byte)));
    expect(texts(out)).toEqual([msg]);
    expect(JSON.parse(msg)).toBeTruthy();
  });

  it("splits coalesced objects and tells newline-delimited from raw", () => {
    const s = new JsonMessageSplitter();
    const out = s.push(enc('{"n":1}\n{"n":2}\r\n{"n":3}{"n":4}  {"n":5}'));
    expect(out.map((i) => (i.kind === "message" ? [i.text, i.newline] : i))).toEqual([
      ['{"n":1}', true],
      ['{"n":2}', true],
      ['{"n":3}', false],
      ['{"n":4}', false],
      ['{"n":5}', undefined],
    ]);
    expect(s.pending).toBe(0);
  });

  it("reports bytes that cannot start an object once, up to the newline, then goes on", () => {
    const s = new JsonMessageSplitter();
    const out = s.push(enc('hello there\n{"n":1}\n'));
    expect(texts(out)).toEqual(["ERR not a JSON object: 11 byte(s) that do not start with '{'", '{"n":1}']);
    expect(texts(s.push(enc("[1,2]")))).toEqual([
      "ERR not a JSON object: 5 byte(s) that do not start with '{'",
    ]);
  });

  it("refuses objects longer than the limit and resets", () => {
    const s = new JsonMessageSplitter({ maxBytes: 32 });
    const out = s.push(enc(`{"a": "${"x".repeat(20)}`));
    expect(out).toEqual([]);
    const more = s.push(enc(`${"y".repeat(20)}"}`));
    expect(texts(more)[0]).toBe("ERR message longer than 32 bytes");
    expect(s.pending).toBe(0);
    expect(texts(s.push(enc('{"ok":1}')))).toEqual(['{"ok":1}']);
  });
});
