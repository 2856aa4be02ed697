// The two HDF5 backends of the writer worker (native libhdf5, h5wasm) write files h5py reads identically.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { H5FileOps } from "../src/storage/h5-file-ops.js";
import { H5NativeBackend } from "../src/storage/h5-native-backend.js";
import { H5WasmBackend } from "../src/storage/h5-wasm-backend.js";
import { attr, type DatasetSpec } from "../src/storage/h5-types.js";
import { nativeHdf5 } from "../src/storage/native-hdf5.js";
import type { Batch, FileOp } from "../src/storage/worker-protocol.js";
import { h5dump } from "./helpers/h5py.js";

const dir = mkdtempSync(join(tmpdir(), "hutch-backends-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bytes of typed arrays laid end to end in one arena, and the segment of each. */
function arena(parts: ArrayBufferView[]): { arena: ArrayBuffer; segs: [number, number][] } {
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const buf = new Uint8Array(total + 16);
  const segs: [number, number][] = [];
  let at = 16; // not at 0: segments are offsets
  for (const p of parts) {
    buf.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at - 16 + 16);
    segs.push([at, p.byteLength]);
    at += p.byteLength;
  }
  return { arena: buf.buffer, segs };
}

const spec = (type: DatasetSpec["type"], rowShape: number[], chunkRows: number, gzip = 0): DatasetSpec => ({
  type,
  rowShape,
  chunkRows,
  gzip,
});

/** Every kind of object, type and append the layouts use, in the order the writer sends them. */
function batches(path: string): Batch[] {
  const wave = Int16Array.from({ length: 5 * 6 }, (_, i) => i * 37 - 400);
  const u16 = Uint16Array.from({ length: 3 * 4 }, (_, i) => 65535 - i);
  const f64 = Float64Array.of(0.5, -1e300, Number.NaN, 3);
  const packets = new Uint8Array(3 * (4 + 1 + 3)); // compound: uint32 ts, uint8 chip, fixed string 3
  const dv = new DataView(packets.buffer);
  for (let r = 0; r < 3; r++) {
    dv.setUint32(r * 8, 1000 + r, true);
    packets[r * 8 + 4] = 7 * r;
    packets.set(new TextEncoder().encode(["ab", "xyz", "q"][r]!), r * 8 + 5);
  }
  const gz = Float32Array.from({ length: 7 * 2 }, (_, i) => i / 3);
  const a1 = arena([
    wave.subarray(0, 12),
    wave.subarray(12),
    u16,
    f64,
    packets,
    gz.subarray(0, 10),
    gz.subarray(10),
  ]);
  const [w1, w2, us, fs, pk, g1, g2] = a1.segs;
  const ops: FileOp[] = [
    { op: "open", path },
    {
      op: "attrs",
      path: "/",
      attrs: {
        name: "run 7 ✓",
        tags: ["a", "bé"],
        number: 4,
        big: 2n ** 40n,
        ok: true,
        shape: attr.int64s([2880, 2880]),
        empty: attr.int64s([]),
        u8: attr.uint8(9),
        f32s: Float32Array.of(1.5, 2.5),
        u16s: { dtype: "uint16", value: [1, 2, 3] },
      },
    },
    { op: "group", path: "/stream", attrs: { descriptor: '{"x":1}' } },
    { op: "dataset", path: "/stream/wave", spec: { ...spec("int16", [2, 3], 4), attrs: { units: "mV" } } },
    { op: "dataset", path: "/stream/u16", spec: spec("uint16", [4], 2) },
    { op: "dataset", path: "/stream/f64", spec: spec("float64", [], 1024) },
    { op: "dataset", path: "/stream/flag", spec: spec("bool", [], 1024) },
    { op: "dataset", path: "/stream/label", spec: spec({ fixedString: 6 }, [], 8) },
    { op: "dataset", path: "/stream/note", spec: spec("string", [], 16) },
    {
      op: "dataset",
      path: "/packets",
      spec: spec(
        {
          compound: [
            { name: "ts", type: "uint32" },
            { name: "chip", type: "uint8" },
            { name: "tag", type: { fixedString: 3 } },
          ],
        },
        [],
        2,
      ),
    },
    { op: "dataset", path: "/gz", spec: spec("float32", [2], 3, 4) },
    { op: "append", path: "/stream/wave", rows: 5, segments: [w1!, w2!] },
    { op: "append", path: "/stream/u16", rows: 3, segments: [us!] },
    { op: "append", path: "/stream/f64", rows: 4, segments: [fs!] },
    { op: "append", path: "/packets", rows: 3, segments: [pk!] },
    { op: "append", path: "/gz", rows: 7, segments: [g1!, g2!] },
    { op: "append", path: "/stream/note", rows: 2, strings: ["first", "ünïcode"] },
    { op: "flush" },
  ];
  // A stream declared while appending (SWMR left and entered again), then more rows everywhere.
  const flags = Uint8Array.of(1, 0, 1);
  const labels = new Uint8Array(2 * 6);
  labels.set(new TextEncoder().encode("det1"), 0);
  labels.set(new TextEncoder().encode("det2ab"), 6);
  const a2 = arena([flags, labels, u16.subarray(0, 4), f64.subarray(0, 1)]);
  const [fl, lb, u2, f2] = a2.segs;
  const ops2: FileOp[] = [
    { op: "dataset", path: "/late", spec: { ...spec("int32", [], 4), attrs: { late: true } } },
    { op: "attrs", path: "/stream/wave", attrs: { units: "V", scale: 0.001 } },
    { op: "append", path: "/stream/flag", rows: 3, segments: [fl!] },
    { op: "append", path: "/stream/label", rows: 2, segments: [lb!] },
    { op: "append", path: "/stream/u16", rows: 1, segments: [u2!] },
    { op: "append", path: "/stream/f64", rows: 1, segments: [f2!] },
    { op: "append", path: "/stream/note", rows: 1, strings: [""] },
    { op: "append", path: "/late", rows: 0, segments: [] },
    { op: "close" },
  ];
  return [
    { id: 1, ops, arena: a1.arena },
    { id: 2, ops: ops2, arena: a2.arena },
  ];
}

describe("HDF5 backends", () => {
  it("the native writer is built where CI runs (libhdf5-dev, scripts/build.mjs)", () => {
    if (process.env.CI === "true")
      expect(nativeHdf5, "native-hdf5/build/Release/hutch_hdf5.node").toBeDefined();
  });

  it.skipIf(!nativeHdf5)(
    "native libhdf5 and h5wasm write files that h5py reads the same, value for value",
    async () => {
      const write = async (ops: H5FileOps, name: string) => {
        const path = join(dir, name);
        for (const b of batches(path)) ops.apply(b);
        return h5dump(path);
      };
      const native = await write(new H5FileOps(new H5NativeBackend(nativeHdf5!)), "native.h5");
      const wasm = await write(new H5FileOps(await H5WasmBackend.load()), "wasm.h5");
      expect(native).toEqual(wasm);
      // and what they hold is what was written
      expect(native.datasets["/stream/wave"]!.shape).toEqual([5, 2, 3]);
      expect(native.datasets["/stream/note"]!.strings).toEqual(["first", "ünïcode", ""]);
      expect(native.datasets["/gz"]!).toMatchObject({
        shape: [7, 2],
        compression: "gzip",
        compression_opts: 4,
      });
      expect(native.datasets["/packets"]!.rows).toEqual([
        [1000, 0, "ab"],
        [1001, 7, "xyz"],
        [1002, 14, "q"],
      ]);
      expect(native.attrs["big"]).toEqual({ dtype: "<i8", shape: [], value: 2 ** 40 });
      expect(native.datasets["/stream/wave"]!.attrs["units"]!.value).toBe("V");
    },
  );

  it.skipIf(!nativeHdf5)("native: HDF5 errors are thrown with the stack; bad arguments are refused", () => {
    const h5 = nativeHdf5!;
    expect(() => h5.fileOpen(join(dir, "missing.h5"))).toThrow(/open failed\n.*HDF5/s);
    const fid = h5.fileCreate(join(dir, "errors.h5"));
    try {
      expect(() => h5.groupCreate(fid, "/no/such/parent")).toThrow(/create group failed/);
      expect(() => h5.datasetCreate(fid, "/x", "<z", [], 1, 0)).toThrow(/unknown dtype/);
      const did = h5.datasetCreate(fid, "/x", "<i", [2], 4, 0);
      expect(() => h5.datasetAppend(did, 0, 1, new Int32Array(2), Float64Array.of(0, 100))).toThrow(
        /outside the arena/,
      );
      expect(() => h5.datasetAppend(did, 0, 3, new Int32Array(2), Float64Array.of(0, 8))).toThrow(
        /whole number of rows/,
      );
      h5.datasetClose(did);
    } finally {
      h5.fileClose(fid);
    }
  });
});
