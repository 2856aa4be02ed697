// Unit tests of the source-address -> module map and the per-module counters.
import { describe, expect, it } from "vitest";
import { Counters } from "../../core/index.js";
import { ModuleMapSchema, ipv4String, moduleResolver, moduleResolverIpv4 } from "./module-map.js";
import { ModuleTracker } from "./module-tracker.js";

describe("moduleResolverIpv4", () => {
  it("maps uint32 addresses as moduleResolver maps their text, for both kinds of map", () => {
    const maps = [
      ModuleMapSchema.parse(undefined),
      { kind: "last-octet", modulo: 50, offset: 0 } as const,
      { kind: "table", table: { "10.0.0.5": 3, "10.0.0.6": 40, "127.0.0.101": 0 } } as const,
    ];
    for (const map of maps) {
      const byText = moduleResolver(map, 32);
      const byNumber = moduleResolverIpv4(map, 32);
      for (const a of [0x7f000065, 0x7f000084, 0x7f000085, 0x0a000005, 0x0a000006, 0x01020300 + 60, 0]) {
        expect(byNumber(a)).toBe(byText(ipv4String(a)));
      }
    }
    expect(ipv4String(0x7f000065)).toBe("127.0.0.101");
    expect(ipv4String(0xffffffff)).toBe("255.255.255.255");
  });
});

describe("moduleResolver", () => {
  it("applies the SSDAQ rule by default: x.x.x.101..132 are modules 0..31", () => {
    const of = moduleResolver(ModuleMapSchema.parse(undefined), 32);
    expect(of("127.0.0.101")).toBe(0);
    expect(of("10.1.2.132")).toBe(31);
    expect(of("127.0.0.133")).toBe(-1); // module 32 of 32
    expect(of("127.0.0.100")).toBe(-1); // 0 - 1
    expect(of("127.0.0.1")).toBe(0); // the rule itself: 1 % 100 - 1
    expect(of("not-an-address")).toBe(-1);
  });
  it("honours another modulo/offset and an explicit table", () => {
    expect(moduleResolver({ kind: "last-octet", modulo: 50, offset: 0 }, 32)("1.2.3.60")).toBe(10);
    const of = moduleResolver({ kind: "table", table: { "10.0.0.5": 3, "10.0.0.6": 40 } }, 32);
    expect(of("10.0.0.5")).toBe(3);
    expect(of("10.0.0.6")).toBe(-1); // beyond the module count
    expect(of("10.0.0.7")).toBe(-1);
  });
});

/** The host-order 32-bit halves of uint64 timestamps, as the source hands them to the tracker. */
const words = (ns: bigint[]) => new Uint32Array(BigUint64Array.from(ns).buffer);

describe("ModuleTracker", () => {
  it("counts datagrams, readouts, gaps and out-of-order readouts per module", () => {
    const c = new Counters();
    const t = new ModuleTracker(32, c);
    expect(c.get("module_31_gaps")).toBe(0);
    expect(Object.keys(c.snapshot())).toContain("module_31_out_of_order");
    const ts = words([1000n, 1100n, 1200n, 1500n, 1400n, 1600n, 1600n]);
    t.observe(4, ts, 0, 3); // period learned: 100
    t.observe(4, ts, 3, 7); // 1200 -> 1500: a gap; 1400 out of order; 1600 ok; repeat ignored
    expect(c.get("module_04_datagrams")).toBe(0); // counted in typed arrays until sync()
    t.sync();
    expect(c.get("module_04_datagrams")).toBe(2);
    expect(c.get("module_04_readouts")).toBe(7);
    expect(c.get("module_04_gaps")).toBe(1);
    expect(c.get("module_04_out_of_order")).toBe(1);
  });
  it("uses a configured period and forgets timestamps at reset", () => {
    const c = new Counters();
    const t = new ModuleTracker(2, c, 100);
    t.observe(1, words([0n, 300n]), 0, 2);
    t.sync();
    expect(c.get("module_01_gaps")).toBe(1);
    t.reset();
    t.observe(1, words([10n]), 0, 1); // older than before the reset, but a new run
    t.sync();
    expect(c.get("module_01_out_of_order")).toBe(0);
  });
});
