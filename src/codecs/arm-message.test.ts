// Unit tests of the arm message schema: MEC defaults, refusals with reasons naming the field, unknown fields.
import { describe, expect, it } from "vitest";
import { checkArmMessage, expectedFrames, parseArmMessage } from "./arm-message.js";

describe("arm message", () => {
  it("applies the MEC defaults", () => {
    const c = parseArmMessage('{"command": "arm", "experiment": "mecl1019923", "run_name": "r12"}');
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    expect(c.arm).toEqual({
      command: "arm",
      experiment: "mecl1019923",
      run_name: "r12",
      num_skip_frames: 1,
      num_background_frames: 10,
      num_data_frames: 1,
      num_post_background_frames: 0,
      gain: 1,
      binning: 1,
      trigger_timeout_s: 15,
    });
    expect(expectedFrames(c.arm)).toBe(12);
  });

  it("refuses invalid values with one reason per field, naming what was sent", () => {
    const c = checkArmMessage({ experiment: "e", run_name: "r", gain: 9, binning: 4, num_data_frames: "3" });
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.reasons).toEqual([
      'num_data_frames: must be a whole number from 0 to 100000 (got "3")',
      "gain: must be a whole number from 1 to 7 (got 9)",
      "binning: must be 1, 2 or 3 (got 4)",
    ]);
  });

  it("refuses unknown fields explicitly (includes_shot_frame was silently ignored before)", () => {
    const c = checkArmMessage({ experiment: "e", run_name: "r", includes_shot_frame: true, colour: 1 });
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.reasons[0]).toMatch(/^unknown field 'includes_shot_frame': not supported/);
    expect(c.reasons[1]).toMatch(/^unknown field 'colour': not an arm message field \(fields: command, /);
  });

  it("refuses missing names, path tricks, bad JSON, non-objects and empty plans", () => {
    const missing = checkArmMessage({ run_name: "../etc" });
    expect(missing.ok || missing.reasons).toEqual([
      expect.stringMatching(/^experiment: missing \(must be a name/),
      expect.stringMatching(/^run_name: must be a name .* \(got "..\/etc"\)$/),
    ]);
    const bad = parseArmMessage("{experiment: e}");
    expect(bad.ok || bad.reasons[0]).toMatch(/^not valid JSON: /);
    const arr = checkArmMessage([1]);
    expect(arr.ok || arr.reasons[0]).toBe("an arm message is a JSON object (got [1])");
    const empty = checkArmMessage({
      experiment: "e",
      run_name: "r",
      num_skip_frames: 3,
      num_background_frames: 0,
      num_data_frames: 0,
    });
    expect(empty.ok || empty.reasons[0]).toMatch(/^nothing to acquire/);
    const cmd = checkArmMessage({ command: "disarm", experiment: "e", run_name: "r" });
    expect(cmd.ok || cmd.reasons[0]).toBe('command: must be "arm" (got "disarm")');
  });
});
