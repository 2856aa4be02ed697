import { describe, expect, it } from "vitest";
import { dryRun, type CallStep } from "./plan-steps.js";
import { PmtScanSettingsSchema, analysisArgv, pmtHvPlan, pmtScanPlan } from "./pmt-scan-plan.js";
import { scanLabels, scanName } from "./scan-points.js";

const settings = PmtScanSettingsSchema.parse({ target: "cluster" });

describe("PMT scan plan", () => {
  it("dry-runs to 21 points: prepare, start, acquire + submit per point, one collect, stop", () => {
    const d = dryRun(pmtScanPlan(settings, { serial: "EA1234", name: "EA1234-x" }));
    const kinds = d.steps.filter((s) => s.kind !== "progress" && s.kind !== "log").map((s) => s.kind);
    expect(kinds).toEqual(["command", "command", ...Array(42).fill("call"), "collect", "command"]);
    const calls = d.steps.filter((s): s is CallStep => s.kind === "call");
    expect(
      calls.filter((c) => c.action === "acquire").map((c) => (c.params as { point: number }).point),
    ).toEqual([...Array(21).keys()]);
    const sub = calls.find((c) => c.action === "submit")!.params as Record<string, unknown>;
    expect(sub).toMatchObject({ target: "cluster", group: "EA1234-x", inputs: ["EA1234-x/point-00.npy"] });
    expect(d.result.cells).toHaveLength(21);
    expect(d.result.cells.every((c) => c.colour === "yellow")).toBe(true);
    expect(scanLabels(settings).slice(0, 3)).toEqual(["θ0", "θ10 φ0", "θ10 φ90"]);
  });

  it("puts the serial into argv as one element whatever it holds, and into a safe directory name", () => {
    const serial = 'EA\'1; rm -rf ~ $(touch x) `id` "q" \n-n';
    const argv = analysisArgv(settings, "point-03.npy", serial, 3);
    expect(argv).toContain(`--serial=${serial}`);
    expect(argv.slice(0, 4)).toEqual(["hutch", "pmt", "analyse", "point-03.npy"]);
    const name = scanName(serial, new Date(Date.UTC(2025, 0, 2, 3, 4, 5)));
    expect(name).toBe("EA_1_rm_-rf_touch_x_id_q_-n-20250102T030405Z");
    expect(scanName("../..", new Date(0))).toMatch(/^pmt-19700101T000000Z$/);
  });

  it("the HV check dry-runs over its voltages and survives having no gains", () => {
    const d = dryRun(pmtHvPlan(settings, { serial: "EA1", name: "EA1-hv" }));
    const acq = d.steps.filter((s): s is CallStep => s.kind === "call" && s.action === "acquire");
    expect(acq.map((c) => (c.params as { hvV: number }).hvV)).toEqual([1720, 1750, 1780, 1810, 1840]);
    expect(d.steps.some((s) => s.kind === "emit" && s.data.status === "no-data")).toBe(true);
    expect(d.result.hv).toBeUndefined();
  });
});
