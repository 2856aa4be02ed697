// Run file names from a pattern: {instrument} {run} {date} {time} {part}, with optional zero padding ({run:05}).
import { ErrorCode, HutchError } from "../core/index.js";

/** The default pattern: `demo_run00042_20260121_p1.h5`. */
export const DEFAULT_FILE_PATTERN = "{instrument}_run{run:05}_{date}_p{part}.h5";

const PLACEHOLDERS = ["instrument", "run", "date", "time", "part"] as const;
const TOKEN_RE = /\{([a-z]+)(?::(\d+))?\}/g;

/** What a file name is made of. `time` is the run-start time (unix seconds, UTC in names). */
export interface FileNameParts {
  readonly instrument: string;
  readonly run: number;
  readonly time: number;
  readonly part: number;
}

/**
 * Checks a pattern: known placeholders only, `{run}` present (names must differ between runs), no directory
 * separators. Throws HUTCH_ERR_CONFIG naming the problem.
 */
export function validateFilePattern(pattern: string): void {
  if (pattern.includes("/") || pattern.includes("\\")) {
    throw new HutchError(
      ErrorCode.Config,
      `file pattern '${pattern}' must be a file name, not a path (set the directory separately)`,
    );
  }
  let hasRun = false;
  for (const m of pattern.matchAll(TOKEN_RE)) {
    if (!(PLACEHOLDERS as readonly string[]).includes(m[1]!)) {
      throw new HutchError(
        ErrorCode.Config,
        `file pattern '${pattern}': unknown placeholder {${m[1]}} (use ${PLACEHOLDERS.map((p) => `{${p}}`).join(" ")})`,
      );
    }
    if (m[1] === "run") hasRun = true;
  }
  if (!hasRun)
    throw new HutchError(
      ErrorCode.Config,
      `file pattern '${pattern}' needs {run} so that runs get different files`,
    );
}

/**
 * Formats a run file name. `{date}` is YYYYMMDD and `{time}` HHMMSS (UTC, run start); `{x:05}` pads with zeros.
 * @example formatFileName("{instrument}_run{run:05}_{date}_p{part}.h5", { instrument: "demo", run: 42, time, part: 1 })
 * // "demo_run00042_20260121_p1.h5"
 */
export function formatFileName(pattern: string, parts: FileNameParts): string {
  validateFilePattern(pattern);
  const d = new Date(parts.time * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  const values: Record<(typeof PLACEHOLDERS)[number], string> = {
    instrument: parts.instrument,
    run: String(parts.run),
    date: `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}`,
    time: `${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`,
    part: String(parts.part),
  };
  return pattern.replace(TOKEN_RE, (_m, name: (typeof PLACEHOLDERS)[number], pad?: string) =>
    pad ? values[name].padStart(Number(pad), "0") : values[name],
  );
}
