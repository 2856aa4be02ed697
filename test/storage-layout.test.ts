// The generic layout read back by h5py: every value, dtype, shape and attribute; gzip per stream; rotation into parts.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nd, RunFactory, StreamFactory, type Document } from "../src/core/index.js";
import { Hdf5Writer } from "../src/storage/index.js";
import { h5dump, hexOf, type H5Dump } from "./helpers/h5py.js";

const concat = <T extends ArrayBufferView>(parts: T[]): Uint8Array =>
  Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));

describe("generic layout", () => {
  let dir: string;
  let writer: Hdf5Writer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "hutch-storage-layout-"));
    writer = await Hdf5Writer.open({
      directory: dir,
      flushIntervalMs: 200,
      gzip: { slow: 4 },
      component: "store",
    });
  });
  afterAll(async () => {
    await writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes every value, dtype, shape and attribute exactly as h5py reads them", async () => {
    const config = { rateHz: 10, nested: { a: [1, 2.5], s: "x" } };
    const run = RunFactory.open({ run: 7, instrument: "demo", plan: "count", config, time: 1700000000.25 });
    const wave = new StreamFactory(
      run.info,
      "wave",
      {
        adc: { dtype: "uint16", shape: [8], units: "counts", source: "sim/adc" },
        x: { dtype: "float32", shape: [], description: "a float" },
        big: { dtype: "int64", shape: [] },
        u: { dtype: "uint64", shape: [] },
        ok: { dtype: "bool", shape: [] },
        mat: { dtype: "float64", shape: [2, 3], units: "mV" },
      },
      { component: "sim", time: 1700000000.5 },
    );
    const slow = new StreamFactory(run.info, "slow", {
      temp: { dtype: "float64", shape: [], units: "K" },
      state: { dtype: "string", shape: [] },
      flag: { dtype: "bool", shape: [] },
      n: { dtype: "int32", shape: [] },
    });
    const docs: Document[] = [run.start, wave.descriptor, slow.descriptor];
    const exp = {
      adc: [] as Uint16Array[],
      x: [] as Float32Array[],
      big: [] as BigInt64Array[],
      u: [] as BigUint64Array[],
      ok: [] as Uint8Array[],
      mat: [] as Float64Array[],
      time: [] as Float64Array[],
    };
    const slowExp = {
      temp: [] as number[],
      state: [] as string[],
      flag: [] as number[],
      n: [] as number[],
      time: [] as number[],
    };
    let t = 1700000001;
    for (let k = 0; k < 3; k++) {
      const n = 50;
      const time = Float64Array.from({ length: n }, (_, i) => (t += 0.001 * (i + 1)));
      const adc = Uint16Array.from({ length: n * 8 }, (_, i) => (i * 37 + k * 1000) & 0xffff);
      const x = Float32Array.from({ length: n }, (_, i) => Math.PI * (i + k) - 0.1);
      const big = BigInt64Array.from(
        { length: n },
        (_, i) => (1n << 60n) + BigInt(i * 3 + k) - (k === 2 ? 1n << 62n : 0n),
      );
      const u = BigUint64Array.from({ length: n }, (_, i) => (1n << 64n) - 1n - BigInt(i + k));
      const ok = Uint8Array.from({ length: n }, (_, i) => (i + k) % 2);
      const mat = Float64Array.from({ length: n * 6 }, (_, i) => i / 7 + k);
      docs.push(
        wave.page(time, {
          adc: nd(adc, [n, 8]),
          x: nd(x),
          big: nd(big),
          u: nd(u),
          ok: nd(ok),
          mat: nd(mat, [n, 2, 3]),
        }),
      );
      Object.entries({ adc, x, big, u, ok, mat, time }).forEach(([key, a]) =>
        (exp as Record<string, ArrayBufferView[]>)[key]!.push(a),
      );
      for (let j = 0; j < 7; j++) {
        const v = {
          temp: 273.15 + k + j / 3,
          state: j % 3 ? `st-${k}-${j} é` : "",
          flag: j % 2 === 0,
          n: -j * 1000 + k,
        };
        const tt = (t += 0.01);
        docs.push(slow.event(v, tt));
        slowExp.temp.push(v.temp);
        slowExp.state.push(v.state);
        slowExp.flag.push(v.flag ? 1 : 0);
        slowExp.n.push(v.n);
        slowExp.time.push(tt);
      }
    }
    // One single event on the paged stream, with array and scalar values.
    const one = {
      adc: nd(
        Uint16Array.from({ length: 8 }, (_, i) => 65535 - i),
        [8],
      ),
      x: 1.5,
      big: -5n,
      u: 7,
      ok: true,
      mat: nd(new Float64Array(6).fill(-0.25), [2, 3]),
    };
    docs.push(wave.event(one, (t += 1)));
    exp.adc.push(one.adc.data as Uint16Array);
    exp.x.push(Float32Array.of(1.5));
    exp.big.push(BigInt64Array.of(-5n));
    exp.u.push(BigUint64Array.of(7n));
    exp.ok.push(Uint8Array.of(1));
    exp.mat.push(one.mat.data as Float64Array);
    exp.time.push(Float64Array.of(t));
    for (const d of docs) run.count(d);
    docs.push(run.stop("success", "operator stop", t + 1));
    for (const d of docs) await writer.write(d);
    const files = await writer.runFinished(run.start.uid);
    expect(files).toHaveLength(1);
    const file = files[0]!;
    expect(basename(file.path)).toMatch(/^demo_run00007_20231114_p1\.h5$/);
    expect(file.bytes).toBe(statSync(file.path).size);
    expect(file.sha256).toBe(createHash("sha256").update(readFileSync(file.path)).digest("hex"));
    expect(file.counts).toEqual({ wave: 151, slow: 21 });
    expect(file.component).toBe("store");

    const h: H5Dump = await h5dump(file.path);
    const a = h.attrs;
    expect(a.run).toEqual({ dtype: "<i8", shape: [], value: 7 });
    expect(a.uid).toEqual({ dtype: "vlen-utf-8", shape: [], value: run.start.uid });
    expect(a.instrument!.value).toBe("demo");
    expect(a.plan!.value).toBe("count");
    expect(a.start_time).toEqual({ dtype: "<f8", shape: [], value: 1700000000.25 });
    expect(a.stop_time).toEqual({ dtype: "<f8", shape: [], value: t + 1 });
    expect(a.exit_status!.value).toBe("success");
    expect(a.reason!.value).toBe("operator stop");
    expect(a.hutch_version!.value).toBe(run.start.hutchVersion);
    expect(JSON.parse(a.config!.value as string)).toEqual(config);
    expect(JSON.parse(a.counts!.value as string)).toEqual({ wave: 151, slow: 21 });
    expect(a.part).toEqual({ dtype: "<i8", shape: [], value: 1 });
    expect(a.parts).toEqual({ dtype: "vlen-utf-8", shape: [1], value: [basename(file.path)] });
    expect(a.hutch_layout!.value).toBe("generic");
    expect(a.hutch_layout_version).toEqual({ dtype: "<i8", shape: [], value: 1 });

    expect(JSON.parse(h.groups["/wave"]!.attrs.descriptor!.value as string)).toEqual(wave.descriptor);
    expect(h.groups["/wave"]!.attrs.component!.value).toBe("sim");
    expect(h.groups["/wave"]!.attrs.descriptor_time).toEqual({
      dtype: "<f8",
      shape: [],
      value: 1700000000.5,
    });
    expect(JSON.parse(h.groups["/slow"]!.attrs.descriptor!.value as string)).toEqual(slow.descriptor);

    const ds = h.datasets;
    const N = 151;
    expect(ds["/wave/seq"]).toMatchObject({ dtype: "<i8", shape: [N], maxshape: [null], compression: null });
    expect(ds["/wave/seq"]!.hex).toBe(hexOf(BigInt64Array.from({ length: N }, (_, i) => BigInt(i + 1))));
    expect(ds["/wave/time"]).toMatchObject({ dtype: "<f8", shape: [N] });
    expect(ds["/wave/time"]!.attrs.units!.value).toBe("s");
    expect(ds["/wave/time"]!.hex).toBe(hexOf(concat(exp.time)));
    const field = (name: string, dtype: string, shape: number[], hdtype: string, key: keyof typeof exp) => {
      const d = ds[`/wave/data/${name}`]!;
      expect(d.dtype, name).toBe(dtype);
      expect(d.shape, name).toEqual([N, ...shape]);
      expect(d.maxshape, name).toEqual([null, ...shape]);
      expect(d.chunks![0], name).toBeGreaterThan(0);
      expect(d.attrs.dtype, name).toEqual({ dtype: "vlen-utf-8", shape: [], value: hdtype });
      expect(d.attrs.shape, name).toEqual({ dtype: "<i8", shape: [shape.length], value: shape });
      expect(d.hex, name).toBe(hexOf(concat(exp[key] as ArrayBufferView[])));
      return d;
    };
    const adc = field("adc", "<u2", [8], "uint16", "adc");
    expect(adc.attrs.units!.value).toBe("counts");
    expect(adc.attrs.source!.value).toBe("sim/adc");
    expect(field("x", "<f4", [], "float32", "x").attrs.description!.value).toBe("a float");
    field("big", "<i8", [], "int64", "big");
    field("u", "<u8", [], "uint64", "u");
    field("ok", "|u1", [], "bool", "ok");
    expect(field("mat", "<f8", [2, 3], "float64", "mat").attrs.units!.value).toBe("mV");

    const S = 21;
    expect(ds["/slow/seq"]!.hex).toBe(hexOf(BigInt64Array.from({ length: S }, (_, i) => BigInt(i + 1))));
    expect(ds["/slow/time"]!.hex).toBe(hexOf(Float64Array.from(slowExp.time)));
    for (const p of ["/slow/seq", "/slow/time", "/slow/data/temp", "/slow/data/flag", "/slow/data/n"]) {
      expect(ds[p], p).toMatchObject({
        compression: "gzip",
        compression_opts: 4,
        chunks: ds["/slow/seq"]!.chunks,
      });
    }
    expect(ds["/slow/data/temp"]).toMatchObject({
      dtype: "<f8",
      shape: [S],
      hex: hexOf(Float64Array.from(slowExp.temp)),
    });
    expect(ds["/slow/data/temp"]!.attrs.units!.value).toBe("K");
    expect(ds["/slow/data/state"]).toMatchObject({ dtype: "vlen-utf-8", shape: [S], strings: slowExp.state });
    expect(ds["/slow/data/flag"]).toMatchObject({
      dtype: "|u1",
      shape: [S],
      hex: hexOf(Uint8Array.from(slowExp.flag)),
    });
    expect(ds["/slow/data/n"]).toMatchObject({
      dtype: "<i4",
      shape: [S],
      hex: hexOf(Int32Array.from(slowExp.n)),
    });
    expect(Object.keys(ds).sort()).toEqual(
      ["/slow/data/flag", "/slow/data/n", "/slow/data/state", "/slow/data/temp", "/slow/seq", "/slow/time"]
        .concat([
          "/wave/data/adc",
          "/wave/data/big",
          "/wave/data/mat",
          "/wave/data/ok",
          "/wave/data/u",
          "/wave/data/x",
          "/wave/seq",
          "/wave/time",
        ])
        .sort(),
    );
  });

  it("a stream declared after data started (leaving and re-entering SWMR mode) is written like the others", async () => {
    const w = await Hdf5Writer.open({ directory: dir, gzip: { late: 3 }, chunkBytes: 64 });
    try {
      const run = RunFactory.open({ run: 9, instrument: "demo", plan: "count", config: {} });
      const early = new StreamFactory(run.info, "early", { v: { dtype: "int32", shape: [] } });
      const late = new StreamFactory(run.info, "late", { v: { dtype: "float32", shape: [2] } });
      await w.write(run.start);
      await w.write(early.descriptor);
      await w.write(early.page(Float64Array.of(1, 2, 3), { v: nd(Int32Array.of(1, 2, 3)) }));
      await w.drain(); // data written: the file is in SWMR mode now
      await w.write(late.descriptor);
      const lv = Float32Array.from({ length: 2 * 37 }, (_, i) => i / 4);
      await w.write(
        late.page(
          Float64Array.from({ length: 37 }, (_, i) => 4 + i),
          { v: nd(lv, [37, 2]) },
        ),
      );
      await w.drain();
      await w.write(early.page(Float64Array.of(50), { v: nd(Int32Array.of(4)) }));
      await w.write(run.stop("success", "done"));
      const [f] = await w.runFinished(run.start.uid);
      const h = await h5dump(f!.path);
      expect(h.datasets["/early/data/v"]!.hex).toBe(hexOf(Int32Array.of(1, 2, 3, 4)));
      expect(h.datasets["/late/data/v"]).toMatchObject({
        shape: [37, 2],
        compression: "gzip",
        hex: hexOf(lv),
      });
      expect(h.datasets["/late/seq"]!.shape).toEqual([37]);
      expect(h.datasets["/late/data/v"]!.chunks).toEqual([8, 2]); // 64 B chunks shared by the stream (8 rows of 8 B)
    } finally {
      await w.close();
    }
  });

  it("a stream declared again during the run (a ROI added) keeps one row per event in every dataset", async () => {
    const w = await Hdf5Writer.open({ directory: dir });
    try {
      const run = RunFactory.open({ run: 12, instrument: "demo", plan: "count", config: {} });
      const a = { dtype: "float64", shape: [] } as const;
      const b = { dtype: "float32", shape: [2] } as const;
      const first = new StreamFactory(run.info, "rois", { a });
      const second = new StreamFactory(run.info, "rois", { a, b });
      const third = new StreamFactory(run.info, "rois", { b });
      await w.write(run.start);
      await w.write(first.descriptor);
      await w.write(first.page(Float64Array.of(1, 2, 3), { a: nd(Float64Array.of(10, 20, 30)) }));
      await w.write(second.descriptor);
      await w.write(
        second.page(Float64Array.of(4, 5), {
          a: nd(Float64Array.of(40, 50)),
          b: nd(Float32Array.of(4, 4.5, 5, 5.5), [2, 2]),
        }),
      );
      await w.write(third.descriptor);
      await w.write(third.event({ b: nd(Float32Array.of(6, 6.5)) }, 6));
      await w.write(run.stop("success", "done"));
      const [f] = await w.runFinished(run.start.uid);
      const h = await h5dump(f!.path);
      expect(h.datasets["/rois/seq"]!.shape).toEqual([6]);
      expect(h.datasets["/rois/data/a"]!.hex).toBe(hexOf(Float64Array.of(10, 20, 30, 40, 50, NaN)));
      expect(h.datasets["/rois/data/b"]).toMatchObject({
        shape: [6, 2],
        hex: hexOf(Float32Array.of(NaN, NaN, NaN, NaN, NaN, NaN, 4, 4.5, 5, 5.5, 6, 6.5)),
      });
      const desc = JSON.parse(h.groups["/rois"]!.attrs.descriptor!.value as string);
      expect(desc.uid).toBe(third.descriptor.uid);
      expect(desc.fields).toEqual({ b, a });
      expect(JSON.parse(h.attrs.missing_values!.value as string)).toEqual({ "rois.b": 3, "rois.a": 1 });

      // a field declared again with another shape cannot share its dataset: refused, naming it
      const run2 = RunFactory.open({ run: 13, instrument: "demo", plan: "count", config: {} });
      await w.write(run2.start);
      await w.write(new StreamFactory(run2.info, "rois", { a }).descriptor);
      await w.write(new StreamFactory(run2.info, "rois", { a: { dtype: "float64", shape: [3] } }).descriptor);
      expect(w.failed?.message).toMatch(
        /rois\.a: declared again as float64 \[3\] during the run, was float64 \[\]/,
      );
    } finally {
      await w.close();
    }
  });

  it("rotates into self-contained parts at rotateBytes and reports each with its counts", async () => {
    const w = await Hdf5Writer.open({
      directory: dir,
      rotateBytes: 300_000,
      pattern: "{instrument}-{run:03}-{part:02}.h5",
      batchBytes: 128 * 1024,
    });
    try {
      const run = RunFactory.open({ run: 8, instrument: "demo", plan: "count", config: {} });
      const s = new StreamFactory(run.info, "frames", { img: { dtype: "uint8", shape: [256, 256] } });
      await w.write(run.start);
      await w.write(s.descriptor);
      const all: Uint8Array[] = [];
      for (let k = 0; k < 12; k++) {
        const img = Uint8Array.from({ length: 2 * 65536 }, (_, i) => (i * 7 + k) & 0xff);
        all.push(img);
        const p = s.page(Float64Array.of(k, k + 0.5), { img: nd(img, [2, 256, 256]) });
        run.count(p);
        await w.write(p);
      }
      await w.write(run.stop("success", "done"));
      const files = await w.runFinished(run.start.uid);
      expect(files.length).toBeGreaterThanOrEqual(3);
      expect(files.map((f) => basename(f.path))).toEqual(
        files.map((_, i) => `demo-008-${String(i + 1).padStart(2, "0")}.h5`),
      );
      expect(files.reduce((n, f) => n + (f.counts!.frames ?? 0), 0)).toBe(24);
      let hex = "";
      for (const [i, f] of files.entries()) {
        const h = await h5dump(f.path);
        expect(h.attrs.part!.value).toBe(i + 1);
        expect(h.attrs.uid!.value).toBe(run.start.uid);
        expect(h.datasets["/frames/data/img"]!.shape).toEqual([f.counts!.frames, 256, 256]);
        expect(h.datasets["/frames/seq"]!.shape).toEqual([f.counts!.frames]);
        hex += h.datasets["/frames/data/img"]!.hex;
        const last = i === files.length - 1;
        expect(h.attrs.exit_status === undefined, `part ${i + 1}`).toBe(!last);
        if (last) expect(h.attrs.parts!.value).toEqual(files.map((x) => basename(x.path)));
      }
      expect(hex).toBe(hexOf(concat(all)));
    } finally {
      await w.close();
    }
  });
});
