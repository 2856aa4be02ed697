// Replay: a stored run read back as documents (one file or all parts) equals what was published: counts and values.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { decodeDocument, encodeDocument } from "../src/codecs/index.js";
import {
  DocumentSchema,
  nd,
  RunFactory,
  StreamFactory,
  topicOf,
  type Document,
  type Event,
  type EventPage,
} from "../src/core/index.js";
import { InprocBus } from "../src/transport/index.js";
import { asReplay, Hdf5Writer, readRunFile, runFileSummary } from "../src/storage/index.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "hutch-storage-replay-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytesOf = (parts: ArrayBufferView[]) =>
  Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))).toString("hex");

async function writeRun(opts: { rotateBytes?: number; run: number }) {
  const w = await Hdf5Writer.open({ directory: dir, rotateBytes: opts.rotateBytes ?? 0, gzip: { b: 2 } });
  const run = RunFactory.open({
    run: opts.run,
    instrument: "demo",
    plan: "replay-me",
    config: { k: [1, "two"] },
  });
  const a = new StreamFactory(run.info, "a", {
    v: { dtype: "float32", shape: [3], units: "V" },
    n: { dtype: "uint64", shape: [] },
    ok: { dtype: "bool", shape: [] },
  });
  const b = new StreamFactory(run.info, "b", {
    label: { dtype: "string", shape: [] },
    on: { dtype: "bool", shape: [] },
    i: { dtype: "int32", shape: [] },
  });
  const sent: Document[] = [run.start, a.descriptor, b.descriptor];
  let t = 1_700_000_000;
  for (let k = 0; k < 40; k++) {
    const n = 25;
    const time = Float64Array.from({ length: n }, () => (t += 0.01));
    sent.push(
      a.page(time, {
        v: nd(
          Float32Array.from({ length: 3 * n }, (_, i) => i * 0.25 - k),
          [n, 3],
        ),
        n: nd(BigUint64Array.from({ length: n }, (_, i) => BigInt(k * n + i) * 1_000_000_007n)),
        ok: nd(Uint8Array.from({ length: n }, (_, i) => (i + k) & 1)),
      }),
    );
    sent.push(b.event({ label: `e${k} ✓`, on: k % 3 === 0, i: 5 - k }, (t += 0.001)));
  }
  for (const d of sent) run.count(d);
  sent.push(run.stop("success", "done"));
  for (const d of sent) await w.write(d);
  const files = await w.runFinished(run.start.uid);
  await w.close();
  return { sent, files, counts: run.counts };
}

function check(sent: Document[], got: Document[]) {
  expect(got[0]).toEqual(sent[0]);
  expect(got.filter((d) => d.kind === "descriptor")).toEqual(sent.filter((d) => d.kind === "descriptor"));
  expect(got.at(-1)).toEqual(sent.at(-1));
  const pagesOf = (docs: Document[]) =>
    docs.filter((d): d is EventPage => d.kind === "event-page" && d.stream === "a");
  const [ps, pg] = [pagesOf(sent), pagesOf(got)];
  const total = (p: EventPage[]) => p.reduce((n, x) => n + x.n, 0);
  expect(total(pg)).toBe(total(ps));
  let seq = 1;
  for (const p of pg) {
    expect(p.seq).toBe(seq);
    seq += p.n;
  }
  for (const f of ["v", "n", "ok"]) {
    expect(bytesOf(pg.map((p) => p.data[f]!.data)), f).toBe(bytesOf(ps.map((p) => p.data[f]!.data)));
    expect(pg[0]!.data[f]!.dtype).toBe(ps[0]!.data[f]!.dtype);
  }
  expect(pg[0]!.data.v!.shape).toEqual([pg[0]!.n, 3]);
  expect(bytesOf(pg.map((p) => p.time.data))).toBe(bytesOf(ps.map((p) => p.time.data)));
  const evs = (docs: Document[]) => docs.filter((d): d is Event => d.kind === "event");
  expect(evs(got)).toEqual(evs(sent));
  // Data come merged across streams in time order.
  const times = got.flatMap((d) =>
    d.kind === "event" ? [d.time] : d.kind === "event-page" ? [d.time.data[0] as number] : [],
  );
  for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]!);
}

it("replays a run file as the same documents on the bus (wire-encodable, schema-valid)", async () => {
  const { sent, files, counts } = await writeRun({ run: 21 });
  expect(files).toHaveLength(1);
  const bus = new InprocBus("demo");
  const sub = bus.subscribe({ prefix: "demo/", overflow: "block", capacity: 8 });
  const got: Document[] = [];
  const collecting = (async () => {
    for await (const { doc } of sub) {
      got.push(doc);
      if (doc.kind === "run-stop") break;
    }
  })();
  for await (const doc of readRunFile(files[0]!.path, { pageRows: 64 })) {
    expect(DocumentSchema.safeParse(doc).success).toBe(true);
    const wire = decodeDocument(encodeDocument(topicOf("demo", doc), doc));
    expect(wire.doc.kind).toBe(doc.kind);
    await bus.publish(doc);
  }
  await collecting;
  check(sent, got);
  expect(await runFileSummary(files[0]!.path)).toEqual({
    path: files[0]!.path,
    run: 21,
    uid: (sent[0] as { uid: string }).uid,
    instrument: "demo",
    part: 1,
    exitStatus: "success",
    rows: counts,
  });
  const replayCounts: Record<string, number> = {};
  for (const d of got)
    if (d.kind === "event-page" || d.kind === "event")
      replayCounts[d.stream] = (replayCounts[d.stream] ?? 0) + (d.kind === "event" ? 1 : d.n);
  expect(replayCounts).toEqual(counts);
  bus.close();
});

it("replays a rotated run from all its parts in order", async () => {
  const { sent, files } = await writeRun({ run: 22, rotateBytes: 12_000 });
  expect(files.length).toBeGreaterThan(1);
  const got: Document[] = [];
  for await (const doc of readRunFile(files.map((f) => f.path))) got.push(doc);
  check(sent, got);
});

it("asReplay re-labels a stored run as a new run marked as a replay, values unchanged", async () => {
  const { sent, files } = await writeRun({ run: 23 });
  const got: Document[] = [];
  for await (const doc of asReplay(readRunFile(files[0]!.path), { run: 99, file: files[0]!.path, time: 5 }))
    got.push(doc);
  const start = got[0]!;
  expect(start).toMatchObject({
    kind: "run-start",
    run: 99,
    time: 5,
    replay: { of: sent[0]!.kind === "run-start" ? sent[0]!.uid : "", file: files[0]!.path, run: 23 },
  });
  const uid = start.kind === "run-start" ? start.uid : "";
  expect(uid).not.toBe((sent[0] as { uid: string }).uid);
  const descs = new Set(got.filter((d) => d.kind === "descriptor").map((d) => (d as { uid: string }).uid));
  for (const d of got) {
    if (d.kind === "descriptor" || d.kind === "run-stop") expect(d.runUid).toBe(uid);
    if (d.kind === "event-page" || d.kind === "event") {
      expect(d.runUid).toBe(uid);
      expect(descs.has(d.descriptor)).toBe(true);
    }
  }
  const stop = got.at(-1)!;
  expect(stop).toMatchObject({
    kind: "run-stop",
    run: 99,
    exitStatus: "success",
    counts: (sent.at(-1) as { counts: object }).counts,
  });
});
