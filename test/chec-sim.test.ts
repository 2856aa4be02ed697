// Integration: the TARGET-C simulator is deterministic for a seed, paces itself, stops on abort and validates options.
import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { TARGET_C_READOUT_BYTES } from "../src/codecs/index.js";
import { isHutchError } from "../src/core/index.js";
import { TargetCSim, runTargetCSim } from "../src/sim/target-c/index.js";
import { waitFor } from "./helpers/chec-context.js";

/** A sink socket counting datagrams per source address. */
async function sink(): Promise<{
  port: number;
  from: Map<string, number>;
  total: () => number;
  close: () => Promise<void>;
}> {
  const s: Socket = createSocket("udp4");
  const from = new Map<string, number>();
  s.on("message", (_m, r) => from.set(r.address, (from.get(r.address) ?? 0) + 1));
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  return {
    port: s.address().port,
    from,
    total: () => [...from.values()].reduce((a, b) => a + b, 0),
    close: () => new Promise<void>((r) => s.close(() => r())),
  };
}

describe("TargetCSim", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  it("sends the same bytes for the same seed and start time, from one address per module", async () => {
    const rx = await sink();
    closers.push(rx.close);
    const opts = { to: `127.0.0.1:${rx.port}`, modules: 4, seed: 9, startTimeNs: 1_700_000_000_000_000_000n };
    const runs: string[][] = [];
    for (let k = 0; k < 2; k++) {
      const sim = await TargetCSim.open(opts);
      const seen: string[] = [];
      sim.onDatagram = (m, b) => seen.push(`${m}:${b.toString("hex")}`);
      await sim.sendRounds(2);
      await sim.close();
      runs.push(seen);
    }
    expect(runs[0]!.length).toBe(8);
    expect(runs[1]).toEqual(runs[0]);
    const first = Buffer.from(runs[0]![0]!.split(":")[1]!, "hex");
    expect(first.length).toBe(10 * TARGET_C_READOUT_BYTES);
    expect(first.readBigUInt64BE(0) - 1_700_000_000_000_000_000n).toBeLessThan(1000n); // jitter < 1 us
    expect(first.readBigUInt64BE(TARGET_C_READOUT_BYTES) - first.readBigUInt64BE(0)).toBeGreaterThan(
      99_990_000n,
    ); // 10 Hz
    await waitFor(() => rx.total() === 16, "16 datagrams");
    expect([...rx.from.keys()].sort()).toEqual(["127.0.0.101", "127.0.0.102", "127.0.0.103", "127.0.0.104"]);
  });

  it("runs paced until its rounds are done, and stops at once on abort", async () => {
    const rx = await sink();
    closers.push(rx.close);
    const stats = await runTargetCSim({
      to: `127.0.0.1:${rx.port}`,
      modules: 2,
      rateHz: 200,
      readoutsPerDatagram: 2,
      rounds: 5,
    });
    expect(stats.rounds).toBe(5);
    expect(stats.datagrams).toBe(10);
    const ac = new AbortController();
    const reports: number[] = [];
    const running = runTargetCSim(
      { to: `127.0.0.1:${rx.port}`, modules: 2, rateHz: 1 },
      { signal: ac.signal, report: (s) => reports.push(s.rounds) },
    );
    await waitFor(() => rx.total() >= 12, "the first round of the second run");
    ac.abort();
    const end = await running;
    expect(end.rounds).toBe(1);
    expect(reports.at(-1)).toBe(1);
  });

  it("refuses bad options with HUTCH_ERR_CONFIG naming the field", async () => {
    let err: unknown;
    try {
      await TargetCSim.open({ to: "127.0.0.1:1", modules: 32, sourceBase: "127.0.0.240" });
    } catch (e) {
      err = e;
    }
    expect(isHutchError(err, "HUTCH_ERR_CONFIG")).toBe(true);
    expect((err as Error).message).toMatch(/sourceBase: 32 modules from 127\.0\.0\.240/);
    await expect(TargetCSim.open({ to: "nowhere" })).rejects.toThrow(/to: HOST:PORT/);
    await expect(
      TargetCSim.open({ to: "127.0.0.1:1", modules: 4, faults: { dropModules: [4] } }),
    ).rejects.toThrow(/module 4 is outside 0..3/);
  });
});
