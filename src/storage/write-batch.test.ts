// Batch recording: coalesced appends, one copy into the arena, sealing when full, rollback of a half-done document.
import { describe, expect, it } from "vitest";
import { ArenaPool, BatchBuilder } from "./write-batch.js";
import type { FileOp } from "./worker-protocol.js";

type AppendOp = Extract<FileOp, { op: "append" }>;

function builder(arenaBytes = 1024) {
  const b = new BatchBuilder(new ArenaPool(arenaBytes));
  b.openFile("/tmp/x.h5", true);
  b.group("/s");
  b.dataset("/s/a", { type: "uint16", rowShape: [2], chunkRows: 16 });
  b.dataset("/s/t", { type: "string", rowShape: [], chunkRows: 16 });
  b.dataset("/s/c", {
    type: {
      compound: [
        { name: "k", type: { fixedString: 4 } },
        { name: "v", type: "uint8" },
      ],
    },
    rowShape: [],
    chunkRows: 8,
  });
  return b;
}

describe("BatchBuilder", () => {
  it("coalesces appends per dataset and copies them once (callers may reuse arrays)", () => {
    const b = builder();
    const src = Uint16Array.of(1, 2, 3, 4);
    b.append("/s/a", 2, src);
    src.fill(9);
    b.append("/s/a", 2, src);
    b.append("/s/t", 2, ["x", "é"]);
    b.append("/s/c", 2, { k: ["ab", "wxyz"], v: Uint8Array.of(5, 6) });
    b.flush();
    const [batch] = b.take();
    expect(batch!.newRun).toBe(true);
    expect(batch!.ops.map((o) => o.op)).toEqual([
      "open",
      "group",
      "dataset",
      "dataset",
      "dataset",
      "append",
      "append",
      "append",
      "flush",
    ]);
    const a = batch!.ops[5] as AppendOp;
    expect(a.rows).toBe(4);
    expect(a.segments).toEqual([[0, 16]]);
    expect([...new Uint16Array(batch!.arena!, 0, 8)]).toEqual([1, 2, 3, 4, 9, 9, 9, 9]);
    expect((batch!.ops[6] as AppendOp).strings).toEqual(["x", "é"]);
    const c = batch!.ops[7] as AppendOp;
    expect([...new Uint8Array(batch!.arena!, c.segments![0]![0], 10)]).toEqual([
      97, 98, 0, 0, 5, 119, 120, 121, 122, 6,
    ]);
  });

  it("refuses wrong types, lengths, over-long fixed strings and unknown paths", () => {
    const b = builder();
    expect(() => b.append("/s/a", 2, Float32Array.of(1, 2, 3, 4))).toThrow(/expected 2 rows/);
    expect(() => b.append("/s/a", 3, Uint16Array.of(1, 2, 3, 4))).toThrow(/expected 3 rows/);
    expect(() => b.append("/s/c", 1, { k: ["abcde"], v: Uint8Array.of(1) })).toThrow(/longer than 4 bytes/);
    expect(() => b.append("/s/zz", 1, Uint8Array.of(1))).toThrow(/no such dataset/);
    expect(() => b.dataset("/q/a", { type: "uint8", rowShape: [], chunkRows: 1 })).toThrow(
      /parent group \/q/,
    );
  });

  it("seals a batch when the arena is full, and rolls back a half-recorded document", () => {
    const b = builder(16);
    b.append("/s/a", 2, Uint16Array.of(1, 2, 3, 4)); // 8 bytes
    b.mark();
    b.append("/s/a", 1, Uint16Array.of(5, 6));
    b.append("/s/t", 1, ["bad"]);
    b.rollback();
    b.append("/s/a", 2, Uint16Array.of(7, 8, 9, 10)); // fills the arena: 16 bytes
    b.append("/s/a", 1, Uint16Array.of(11, 12)); // does not fit: seals first
    expect(b.reservedBytes).toBe(20); // every byte kept, across the seal (what the writer's rotation counts)
    b.flush();
    const [first, second] = b.take();
    const ap = first!.ops.find((o) => o.op === "append") as AppendOp;
    expect(ap.rows).toBe(4);
    expect([...new Uint16Array(first!.arena!, 0, 8)]).toEqual([1, 2, 3, 4, 7, 8, 9, 10]);
    expect(first!.ops.some((o) => o.op === "append" && o.path === "/s/t")).toBe(false);
    expect(second!.ops.map((o) => o.op)).toEqual(["append", "flush"]);
  });
});
