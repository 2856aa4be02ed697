// Integration: simulated 32-module camera over loopback UDP -> target-c source -> time-window builder -> event pages.
import { afterEach, describe, expect, it } from "vitest";
import { TargetCSim } from "../src/sim/target-c/target-c-sim.js";
import {
  CHEC_RECEIVERS,
  checkEvents,
  recordSent,
  startChecPipeline,
  waitFor,
  type ChecPipeline,
} from "./helpers/chec-context.js";

const K = 10; // readouts per datagram

describe.each(CHEC_RECEIVERS)("CHEC pipeline over loopback (%s receive)", (receiver) => {
  let pipe: ChecPipeline | undefined;
  let sim: TargetCSim | undefined;
  afterEach(async () => {
    await sim?.close();
    await pipe?.close();
    sim = pipe = undefined;
  });

  it("puts every readout sent by 32 modules in exactly one complete event, with the exact values", async () => {
    pipe = await startChecPipeline({ receiver });
    sim = await TargetCSim.open({
      to: `127.0.0.1:${pipe.port}`,
      readoutsPerDatagram: K,
      rateHz: 10,
      seed: 7,
    });
    const sent = recordSent(sim);
    const rounds = 6;
    await sim.sendRounds(rounds);
    const b = pipe.builder.counters;
    await waitFor(() => b.get("events_complete") === rounds * K, "all events complete");
    const pages = await pipe.stop();
    const check = checkEvents(pages, sent);
    expect(sent.size).toBe(32 * K * rounds);
    expect(check.problems).toEqual([]);
    expect(check.missing).toBe(0);
    expect(check.events).toBe(rounds * K);
    expect(check.complete).toBe(rounds * K);
    expect(check.eventNumbers).toEqual(Array.from({ length: rounds * K }, (_, i) => BigInt(i + 1)));
    expect([...check.runNumbers]).toEqual([42n]);
    const s = pipe.source.counters;
    expect(s.get("native_receive")).toBe(receiver === "native" ? 1 : 0);
    expect(s.get("readouts")).toBe(32 * K * rounds);
    expect(s.get("module_00_datagrams")).toBe(rounds);
    expect(s.get("module_31_readouts")).toBe(rounds * K);
    expect(s.get("module_05_gaps") + s.get("module_05_out_of_order")).toBe(0);
    expect(b.get("events_partial") + b.get("late") + b.get("duplicates") + b.get("collisions")).toBe(0);
    expect(pipe.source.failures.concat(pipe.builder.failures)).toEqual([]);
  });

  it("gives partial events with the right mask when a module is dropped", async () => {
    pipe = await startChecPipeline({ receiver }, { timeoutMs: 40 });
    sim = await TargetCSim.open({
      to: `127.0.0.1:${pipe.port}`,
      readoutsPerDatagram: K,
      seed: 3,
      faults: { dropModules: [7] },
    });
    const sent = recordSent(sim);
    await sim.sendRounds(3);
    const b = pipe.builder.counters;
    await waitFor(() => b.get("events_partial") === 3 * K, "partial events after the timeout");
    const pages = await pipe.stop();
    const check = checkEvents(pages, sent);
    expect(check.problems).toEqual([]);
    expect(check.missing).toBe(0);
    expect(check.events).toBe(3 * K);
    const expected = "1".repeat(7) + "0" + "1".repeat(24);
    expect(new Set(check.masks)).toEqual(new Set([expected]));
    expect(b.get("events_complete")).toBe(0);
    expect(pipe.source.counters.get("module_07_datagrams")).toBe(0);
  });

  it("counts readouts of a delayed module as late and never merges them into later events", async () => {
    pipe = await startChecPipeline({ receiver }, { timeoutMs: 30 });
    sim = await TargetCSim.open({
      to: `127.0.0.1:${pipe.port}`,
      readoutsPerDatagram: K,
      seed: 5,
      faults: { delayModules: [{ module: 12, delayMs: 150 }] },
    });
    const sent = recordSent(sim);
    await sim.sendRounds(2);
    await sim.sent(); // the delayed datagrams have left too
    const b = pipe.builder.counters;
    await waitFor(() => b.get("late") === 2 * K, "late readouts of module 12");
    const pages = await pipe.stop();
    const check = checkEvents(pages, sent);
    expect(check.problems).toEqual([]);
    expect(check.missing).toBe(2 * K); // module 12's readouts: counted late, in no event
    expect(new Set(check.masks)).toEqual(new Set(["1".repeat(12) + "0" + "1".repeat(19)]));
    expect(b.get("events")).toBe(2 * K);
    expect(pipe.source.counters.get("module_12_readouts")).toBe(2 * K);
  });
});
