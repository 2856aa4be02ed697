// The hdf5-writer component on an in-process bus: stop report for the catalog, back-pressure without loss, failures, reset.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Counters,
  makeLogger,
  nd,
  RunFactory,
  StreamFactory,
  type RunFile,
  type StopReport,
} from "../src/core/index.js";
import type { ComponentContext, ComponentHooks } from "../src/component/index.js";
import { InprocBus } from "../src/transport/index.js";
import { hdf5WriterComponent, Hdf5WriterParamsSchema } from "../src/storage/index.js";
import { h5dump, hexOf } from "./helpers/h5py.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "hutch-storage-component-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function setup(params: Record<string, unknown> = {}) {
  const bus = new InprocBus("demo");
  const failures: string[] = [];
  const logs: { level: string; message: string }[] = [];
  const ctx: ComponentContext = {
    name: "store",
    instrument: "demo",
    bus,
    log: makeLogger((level, message) => logs.push({ level, message })),
    counters: new Counters(),
    signal: new AbortController().signal,
    dataDir: dir,
    configDir: dir,
    run: undefined,
    stream: () => {
      throw new Error("not a source");
    },
    fail: (reason) => failures.push(reason),
    alarm: () => undefined,
    request: () => undefined,
  };
  const hooks = hdf5WriterComponent.create(
    Hdf5WriterParamsSchema.parse({ directory: "runs", ...params }),
    ctx,
  );
  return { bus, ctx, failures, logs, hooks: hooks as Promise<ComponentHooks> };
}

const filesOf = (r: void | StopReport): RunFile[] => (r && r.files) || [];

describe("hdf5-writer component", () => {
  it("is a sink with strict params", () => {
    expect(hdf5WriterComponent.type).toBe("hdf5-writer");
    expect(hdf5WriterComponent.role).toBe("sink");
    expect(() => Hdf5WriterParamsSchema.parse({ gzp: 1 })).toThrow(/gzp/);
    expect(Hdf5WriterParamsSchema.parse({})).toMatchObject({
      flushIntervalMs: 1000,
      gzip: 0,
      layouts: ["generic"],
    });
  });

  it("writes a run published on the bus and reports its files (path, bytes, sha256, counts) after run-stop", async () => {
    const { bus, ctx, logs, hooks: h } = setup({ gzip: { b: 1 } });
    const hooks = await h;
    await hooks.configure!({}, ctx);
    // the operator is told where files go and which HDF5 writes them
    const told = logs.find((l) => l.message.startsWith("run files go to"));
    expect(told?.message).toMatch(/written with (libhdf5 \d+\.\d+\.\d+ \(native\)|h5wasm)/);
    const run = RunFactory.open({ run: 11, instrument: "demo", plan: "scan", config: { points: 3 } });
    await bus.publish(run.start); // run control publishes run-start, then calls start (sinks first)
    await hooks.start!(run.info, ctx);
    const a = new StreamFactory(run.info, "a", { x: { dtype: "float64", shape: [] } });
    const b = new StreamFactory(run.info, "b", { y: { dtype: "int16", shape: [3] } });
    await bus.publish(a.descriptor);
    await bus.publish(b.descriptor);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < 20; i++) {
      const pa = a.page(Float64Array.of(i, i + 0.5), { x: nd(Float64Array.of(i * 1.5, -i)) });
      const yb = Int16Array.of(i, -i, i * 100);
      const pb = b.page(Float64Array.of(i + 0.25), { y: nd(yb, [1, 3]) });
      xs.push(i * 1.5, -i);
      ys.push(...yb);
      run.count(pa);
      run.count(pb);
      await bus.publish(pa);
      await bus.publish(pb);
    }
    // Sinks are stopped after the run-stop is published; the hook resolves once the file is closed.
    await bus.publish(run.stop("success", "end of scan"));
    const files = filesOf(await hooks.stop!(ctx));
    expect(files).toHaveLength(1);
    const f = files[0]!;
    expect(f.path.startsWith(join(dir, "runs") + "/")).toBe(true);
    expect(f.sha256).toBe(createHash("sha256").update(readFileSync(f.path)).digest("hex"));
    expect(f.bytes).toBe(readFileSync(f.path).byteLength);
    expect(f.counts).toEqual({ a: 40, b: 20 });
    expect(f.component).toBe("store");
    const d = await h5dump(f.path);
    expect(d.attrs.exit_status!.value).toBe("success");
    expect(d.attrs.reason!.value).toBe("end of scan");
    expect(d.datasets["/a/data/x"]!.hex).toBe(hexOf(Float64Array.from(xs)));
    expect(d.datasets["/b/data/y"]).toMatchObject({
      compression: "gzip",
      compression_opts: 1,
      hex: hexOf(Int16Array.from(ys)),
    });
    expect(ctx.counters.get("events")).toBe(60);
    await hooks.close!();
    bus.close();
  });

  it("back-pressure reaches publishers (counted, logged), nothing is lost; stop waits for a late run-stop", async () => {
    const { bus, ctx, logs, hooks: h } = setup({ queueCapacity: 2, maxInFlight: 1, batchBytes: 1 << 20 });
    const hooks = await h;
    await hooks.configure!({}, ctx);
    const run = RunFactory.open({ run: 12, instrument: "demo", plan: "count", config: {} });
    await bus.publish(run.start);
    await hooks.start!(run.info, ctx);
    const s = new StreamFactory(run.info, "frames", { img: { dtype: "uint16", shape: [512, 512] } });
    await bus.publish(s.descriptor);
    const frames: Uint16Array[] = [];
    // A burst far faster than a disk: 64 frames of 512 KiB published back to back.
    await Promise.all(
      Array.from({ length: 64 }, (_, k) => {
        const img = new Uint16Array(512 * 512).fill(k * 3 + 1);
        frames.push(img);
        const p = s.page(Float64Array.of(k), { img: nd(img, [1, 512, 512]) });
        run.count(p);
        return bus.publish(p);
      }),
    );
    const stopping = hooks.stop!(ctx); // called before the run-stop arrives: it waits for it
    await bus.publish(run.stop("success", "done"));
    const files = filesOf(await stopping);
    expect(files[0]!.counts).toEqual({ frames: 64 });
    expect(ctx.counters.get("input_blocked")).toBeGreaterThan(0);
    expect(ctx.counters.get("input_dropped")).toBe(0);
    expect(
      logs.some(
        (l) => l.level === "warn" && /storage is slower than the data: publishers waited/.test(l.message),
      ),
    ).toBe(true);
    const d = await h5dump(files[0]!.path);
    expect(d.datasets["/frames/data/img"]!.shape).toEqual([64, 512, 512]);
    const all = new Uint16Array(64 * 512 * 512);
    frames.forEach((f, k) => all.set(f, k * 512 * 512));
    expect(d.datasets["/frames/data/img"]!.hex).toBe(hexOf(all));
    await hooks.close!();
    bus.close();
  });

  it("a document that does not match its descriptor fails the component with the reason; reset allows the next run", async () => {
    const { bus, ctx, failures, hooks: h } = setup({ stopTimeoutMs: 2000 });
    const hooks = await h;
    await hooks.configure!({}, ctx);
    const run = RunFactory.open({ run: 13, instrument: "demo", plan: "count", config: {} });
    await bus.publish(run.start);
    await hooks.start!(run.info, ctx);
    const s = new StreamFactory(run.info, "s", { v: { dtype: "uint16", shape: [] } });
    await bus.publish(s.descriptor);
    await bus.publish(s.page(Float64Array.of(1), { v: nd(Uint16Array.of(7)) }));
    await bus.publish(s.page(Float64Array.of(2), { v: nd(Float32Array.of(7.5)) }));
    await bus.publish(run.stop("fail", "component failed"));
    const files = filesOf(await hooks.stop!(ctx));
    expect(failures).toEqual(["s.v: got float32[1], the descriptor declares uint16 [] per event (1 events)"]);
    expect(files).toHaveLength(1);
    const d = await h5dump(files[0]!.path); // closed cleanly with what was valid
    expect(d.datasets["/s/data/v"]!.hex).toBe(hexOf(Uint16Array.of(7)));

    await hooks.reset!(ctx);
    await hooks.configure!({}, ctx);
    const run2 = RunFactory.open({ run: 14, instrument: "demo", plan: "count", config: {} });
    await bus.publish(run2.start);
    await hooks.start!(run2.info, ctx);
    await bus.publish(run2.stop("success", "ok"));
    const files2 = filesOf(await hooks.stop!(ctx));
    expect(files2).toHaveLength(1);
    expect((await h5dump(files2[0]!.path)).attrs.exit_status!.value).toBe("success");
    expect(failures).toHaveLength(1);
    await hooks.close!();
    bus.close();
  });

  it("without a run-stop, stop closes the file as failed after stopTimeoutMs; unknown layouts are refused", async () => {
    const { bus, ctx, hooks: h } = setup({ stopTimeoutMs: 100 });
    const hooks = await h;
    await expect(Promise.resolve(hooks.configure!({ layouts: ["nope"] }, ctx))).rejects.toThrow(
      "unknown file layout 'nope' (known: generic",
    );
    await hooks.configure!({}, ctx);
    const run = RunFactory.open({ run: 15, instrument: "demo", plan: "count", config: {} });
    await bus.publish(run.start);
    await hooks.start!(run.info, ctx);
    const files = filesOf(await hooks.stop!(ctx));
    expect(files).toHaveLength(1);
    const d = await h5dump(files[0]!.path);
    expect(d.attrs.exit_status!.value).toBe("fail");
    expect(d.attrs.reason!.value).toBe("no run-stop document within 100 ms");
    await hooks.close!();
    bus.close();
  });
});
