// Integration: duplicate, reordered, corrupt, garbage and stranger datagrams are counted by reason; nothing crashes or leaks.
import { describe, expect, it } from "vitest";
import { TARGET_C_READOUT_BYTES } from "../src/codecs/index.js";
import { TargetCSim } from "../src/sim/target-c/target-c-sim.js";
import {
  CHEC_RECEIVERS,
  checkEvents,
  recordSent,
  startChecPipeline,
  waitFor,
} from "./helpers/chec-context.js";

const K = 10;
const IMPOSSIBLE = 0xffff_ffff_ffff_ffffn;

describe.each(CHEC_RECEIVERS)("CHEC pipeline with injected faults (%s receive)", (receiver) => {
  it("counts every fault by its reason and still builds every good readout exactly once", async () => {
    // a long timeout: under load a reordered datagram may arrive late; stop() emits the partial events instead
    const pipe = await startChecPipeline({ receiver }, { timeoutMs: 10_000 });
    const sim = await TargetCSim.open({
      to: `127.0.0.1:${pipe.port}`,
      readoutsPerDatagram: K,
      seed: 11,
      faults: { duplicate: 0.1, reorder: 0.1, corrupt: 0.05, garbage: 0.1, unknownSource: 0.5 },
    });
    try {
      const sent = recordSent(sim);
      // readouts the source accepts twice (duplicate datagrams) and impossible timestamps, counted from the bytes
      let dupReadouts = 0;
      let impossible = 0;
      const record = sim.onDatagram!;
      sim.onDatagram = (m, bytes, kind) => {
        record(m, bytes, kind);
        if (kind === "garbage" || kind === "stranger") return;
        for (let o = 0; o < bytes.length; o += TARGET_C_READOUT_BYTES) {
          if (bytes.readBigUInt64BE(o) === IMPOSSIBLE) impossible++;
          else if (kind === "duplicate") dupReadouts++;
        }
      };
      const rounds = 8;
      await sim.sendRounds(rounds);
      await sim.stop(); // sends datagrams still held for reordering
      const st = sim.stats;
      expect(st.duplicated * st.reordered * st.corrupted * st.garbage * st.strangers).toBeGreaterThan(0);

      const src = pipe.source.counters;
      const b = pipe.builder.counters;
      await waitFor(() => src.get("datagrams") === st.datagrams, "every datagram received");
      await waitFor(() => b.get("readouts") === st.readouts + dupReadouts, "every readout at the builder");
      const pages = await pipe.stop();

      expect(src.get("rejected_datagrams_bad_length")).toBe(st.garbage);
      expect(src.get("rejected_datagrams_unknown_source")).toBe(st.strangers);
      expect(src.get("rejected_readouts_bad_timestamp")).toBe(impossible);
      expect(src.get("internal_errors")).toBe(0);
      expect(b.get("duplicates")).toBe(dupReadouts);
      expect(b.get("late") + b.get("collisions") + b.get("invalid_module")).toBe(0);
      let ooo = 0;
      for (let m = 0; m < 32; m++) ooo += src.get(`module_${String(m).padStart(2, "0")}_out_of_order`);
      expect(ooo).toBeGreaterThanOrEqual(st.reordered * K);

      const check = checkEvents(pages, sent);
      expect(check.problems).toEqual([]);
      expect(check.missing).toBe(0);
      expect(check.events).toBe(rounds * K);
      // events that lost a corrupt readout are partial, all others complete
      expect(check.complete).toBe(rounds * K - b.get("events_partial"));
      expect(b.get("events_partial")).toBeGreaterThan(0);
      expect(b.get("events_partial")).toBeLessThanOrEqual(st.corrupted);

      const warnings = pipe.source.logs.filter((l) => l.level === "warn");
      expect(warnings.some((l) => /bad length/.test(l.message))).toBe(true);
      expect(warnings.some((l) => /unknown source from 127\.0\.0\.100/.test(l.message))).toBe(true);
      expect(warnings.length).toBeLessThanOrEqual(15); // bounded: 5 per reason per 10 s
      expect(pipe.source.failures.concat(pipe.builder.failures)).toEqual([]);
    } finally {
      await sim.close();
      await pipe.close();
    }
  });
});
