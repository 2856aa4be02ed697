// LArPix v1 chip configuration: named fields <-> 63 registers, diffs.
import { describe, expect, it } from "vitest";
import {
  LarpixChipConfigSchema,
  configDiff,
  configToRegisters,
  defaultChipConfig,
  registerDiff,
  registersToConfig,
} from "./larpix-config.js";

describe("LArPix v1 configuration registers", () => {
  it("places fields in their registers and reads them back", () => {
    const c = defaultChipConfig();
    c.global_threshold = 255;
    c.channel_mask[9] = 1; // register 52 + 1, bit 1
    c.external_trigger_mask = new Array<number>(32).fill(0);
    c.reset_cycles = 0x123456;
    c.test_burst_length = 0xbeef;
    const r = configToRegisters(c);
    expect(r.length).toBe(63);
    expect(r[0]).toBe(16);
    expect(r[32]).toBe(255);
    expect(r[33]).toBe(0b1001); // csa gain 1, internal bypass 1 (bit 3)
    expect([...r.subarray(52, 56)]).toEqual([0, 0b10, 0, 0]);
    expect([...r.subarray(56, 60)]).toEqual([0, 0, 0, 0]);
    expect([...r.subarray(49, 51)]).toEqual([0xef, 0xbe]);
    expect([...r.subarray(60, 63)]).toEqual([0x56, 0x34, 0x12]);
    expect(registersToConfig(r)).toEqual(c);
    expect(LarpixChipConfigSchema.parse(c)).toEqual(c);
  });

  it("names the differences", () => {
    const a = defaultChipConfig();
    const b = { ...defaultChipConfig(), global_threshold: 255 };
    expect(configDiff(b, a)).toEqual({ global_threshold: [255, 40] });
    expect(registerDiff(configToRegisters(b), configToRegisters(a))).toEqual([
      { register: 32, actual: 255, stored: 40 },
    ]);
    expect(() => registersToConfig([1, 2])).toThrow(/63 registers/);
  });
});
