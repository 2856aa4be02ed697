// Unit tests of the trigger watchdog with a fake clock.
import { describe, expect, it } from "vitest";
import { TriggerWatchdog } from "./trigger-watchdog.js";
import { resourceProblems } from "./resource-check.js";

describe("TriggerWatchdog", () => {
  it("accepts frames within the timeout of start or the last frame, then never again", () => {
    let t = 1000;
    const wd = new TriggerWatchdog(15_000, () => t);
    expect(wd.frame()).toBe(false); // not armed
    wd.arm();
    t += 14_999;
    expect(wd.frame()).toBe(true);
    t += 15_000;
    expect(wd.check()).toBe(false);
    expect(wd.frame()).toBe(true);
    t += 15_001;
    expect(wd.frame()).toBe(false); // arrived after the deadline, before any timer fired
    expect(wd.check()).toBe(true);
    expect(wd.check()).toBe(false); // reported once
    t += 1;
    expect(wd.frame()).toBe(false); // expired for the rest of the run
    expect(wd.expired).toBe(true);
    wd.arm();
    expect(wd.frame()).toBe(true); // next run
  });
});

describe("resourceProblems", () => {
  it("names what is short, the amounts and the parameter", async () => {
    const probe = { freeDiskBytes: async () => 3.2e9, freeMemoryBytes: async () => 8e9 };
    expect(
      await resourceProblems({ minFreeDiskBytes: 5e9, minFreeMemoryBytes: 4e9, diskPath: "/data" }, probe),
    ).toEqual(["only 3.2 GB free on the disk of /data, at least 5.0 GB needed (minFreeDiskBytes)"]);
    const low = { freeDiskBytes: async () => 6e9, freeMemoryBytes: async () => 5e8 };
    expect(
      await resourceProblems({ minFreeDiskBytes: 5e9, minFreeMemoryBytes: 4e9, diskPath: "/data" }, low),
    ).toEqual(["only 0.500 GB of memory available, at least 4.0 GB needed (minFreeMemoryBytes)"]);
  });

  it("measures the real disk of a directory that does not exist yet", async () => {
    const p = await resourceProblems({
      minFreeDiskBytes: 1,
      minFreeMemoryBytes: 1,
      diskPath: "/tmp/no/such/dir",
    });
    expect(p).toEqual([]);
  });
});
