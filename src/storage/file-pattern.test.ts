// File name patterns: placeholders, padding, validation messages.
import { describe, expect, it } from "vitest";
import { DEFAULT_FILE_PATTERN, formatFileName, validateFilePattern } from "./file-pattern.js";

const parts = { instrument: "chec", run: 42, time: Date.UTC(2026, 0, 21, 7, 5, 9) / 1000, part: 3 };

describe("formatFileName", () => {
  it("fills placeholders with zero padding, date and time in UTC", () => {
    expect(formatFileName(DEFAULT_FILE_PATTERN, parts)).toBe("chec_run00042_20260121_p3.h5");
    expect(formatFileName("{instrument}-{run}-{date}T{time}-{part:03}.h5", parts)).toBe(
      "chec-42-20260121T070509-003.h5",
    );
  });
  it("refuses unknown placeholders, a missing {run} and directories", () => {
    expect(() => validateFilePattern("{instrument}_{runn}.h5")).toThrow("unknown placeholder {runn}");
    expect(() => validateFilePattern("{instrument}.h5")).toThrow("needs {run}");
    expect(() => validateFilePattern("x/{run}.h5")).toThrow("must be a file name");
  });
});
