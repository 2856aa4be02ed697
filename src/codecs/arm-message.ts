// The MEC arm message: the JSON acquisition configuration a DAQ sends to arm area detectors, validated with reasons.
import { z } from "zod";

/** Characters allowed in names that become directory names (experiment, run_name): no '/', no leading '.'. */
const PATH_NAME = /^[A-Za-z0-9_+-][A-Za-z0-9_.+-]{0,127}$/;
const pathName = z.string().regex(PATH_NAME);
const count = z.number().int().min(0).max(100_000);

/**
 * The arm message, fields and defaults as the MEC DAQ and PyLAD client used them, plus Hutch's
 * `trigger_timeout_s` (the trigger watchdog, 15 s as in PyLAD). Unknown fields are refused (PyLAD silently ignored
 * `includes_shot_frame`; Hutch says so instead).
 */
export const ArmMessageSchema = z.strictObject({
  command: z.literal("arm").default("arm"),
  experiment: pathName.describe("experiment name, e.g. mecl1019923 (a directory name)"),
  run_name: pathName.describe("run name from the DAQ (a directory name)"),
  num_skip_frames: count.default(1).describe("frames dropped first, to let the background settle"),
  num_background_frames: count.default(10),
  num_data_frames: count.default(1),
  num_post_background_frames: count.default(0),
  gain: z.number().int().min(1).max(7).default(1).describe("Varex gain setting 1..7"),
  binning: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(1),
  save_files_path: z
    .string()
    .regex(/^\/[^\0]*$/)
    .optional()
    .describe(
      "absolute directory for this run's exported frames (TIFF); default: the detector's tiff.directory",
    ),
  trigger_timeout_s: z
    .number()
    .positive()
    .max(3600)
    .default(15)
    .describe("abort when no trigger arrives for this long after start or the last frame"),
});

/** A validated arm message with defaults applied. */
export type ArmMessage = z.output<typeof ArmMessageSchema>;
/** An arm message as a sender writes it (defaults may be left out). */
export type ArmMessageInput = z.input<typeof ArmMessageSchema>;

/** What each field must be, for reasons that name the fix. */
const EXPECT: Record<string, string> = {
  command: 'must be "arm"',
  experiment:
    "must be a name of letters, digits, '_', '.', '+', '-' (1-128 characters, not starting with '.')",
  run_name: "must be a name of letters, digits, '_', '.', '+', '-' (1-128 characters, not starting with '.')",
  num_skip_frames: "must be a whole number from 0 to 100000",
  num_background_frames: "must be a whole number from 0 to 100000",
  num_data_frames: "must be a whole number from 0 to 100000",
  num_post_background_frames: "must be a whole number from 0 to 100000",
  gain: "must be a whole number from 1 to 7",
  binning: "must be 1, 2 or 3",
  save_files_path: "must be an absolute directory path",
  trigger_timeout_s: "must be a number of seconds above 0 and at most 3600",
};

const KNOWN = Object.keys(ArmMessageSchema.shape);

/** Hints for fields other systems sent that Hutch does not take. */
const UNKNOWN_HINTS: Record<string, string> = {
  includes_shot_frame:
    "not supported: count the shot frame in num_data_frames (PyLAD ignored this field silently; Hutch refuses it)",
};

/** The result of checking an arm message: the message with defaults, or every reason it is refused. */
export type ArmCheck =
  | { readonly ok: true; readonly arm: ArmMessage }
  | { readonly ok: false; readonly reasons: readonly string[] };

const shown = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/**
 * Checks a decoded arm message. Every problem is a reason naming the field, what it must be and what was sent:
 * `gain: must be a whole number from 1 to 7 (got 9)`, `unknown field 'includes_shot_frame': ...`.
 * @example const c = checkArmMessage(JSON.parse(text)); if (!c.ok) reply(`NOT OK: ${c.reasons.join("; ")}`);
 */
export function checkArmMessage(raw: unknown): ArmCheck {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, reasons: [`an arm message is a JSON object (got ${shown(raw)})`] };
  }
  const parsed = ArmMessageSchema.safeParse(raw);
  const reasons: string[] = [];
  if (!parsed.success) {
    const obj = raw as Record<string, unknown>;
    for (const issue of parsed.error.issues) {
      if (issue.code === "unrecognized_keys") {
        for (const k of issue.keys) {
          reasons.push(
            `unknown field '${k}': ${UNKNOWN_HINTS[k] ?? `not an arm message field (fields: ${KNOWN.join(", ")})`}`,
          );
        }
        continue;
      }
      const field = String(issue.path[0] ?? "");
      const got = obj[field];
      reasons.push(
        got === undefined
          ? `${field}: missing (${EXPECT[field] ?? issue.message})`
          : `${field}: ${EXPECT[field] ?? issue.message} (got ${shown(got)})`,
      );
    }
    return { ok: false, reasons };
  }
  const arm = parsed.data;
  const total =
    arm.num_skip_frames + arm.num_background_frames + arm.num_data_frames + arm.num_post_background_frames;
  if (total - arm.num_skip_frames === 0) {
    reasons.push("nothing to acquire: background, data and post-shot background frame counts are all 0");
  }
  return reasons.length ? { ok: false, reasons } : { ok: true, arm };
}

/**
 * Parses arm message text (JSON). Invalid JSON is refused with the parser's reason.
 * @example parseArmMessage('{"command": "arm", "experiment": "mecl1019923", "run_name": "r12"}')
 */
export function parseArmMessage(text: string): ArmCheck {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, reasons: [`not valid JSON: ${(err as Error).message}`] };
  }
  return checkArmMessage(raw);
}

/** Total frames an arm expects (skip + background + data + post-shot background). */
export function expectedFrames(arm: ArmMessage): number {
  return (
    arm.num_skip_frames + arm.num_background_frames + arm.num_data_frames + arm.num_post_background_frames
  );
}
