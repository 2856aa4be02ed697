// Quoting for the one place a shell is unavoidable (ssh exec requests, batch scripts, remote file commands): every argument as data.
import { ErrorCode, HutchError } from "../core/index.js";

/**
 * Quotes one argument for a POSIX shell: wrapped in single quotes, each `'` written as `'\''`. Inside single
 * quotes nothing is special (`$`, backquotes, `\`, `;`, newlines...), so the shell passes the bytes unchanged.
 * A NUL byte cannot be part of an argument and is refused.
 * @example shellQuote("it's $(rm -rf ~)") === `'it'\\''s $(rm -rf ~)'`
 */
export function shellQuote(arg: string): string {
  if (arg.includes("\0")) {
    throw new HutchError(ErrorCode.Validation, `argument ${JSON.stringify(arg)} contains a NUL byte`);
  }
  // "=" is left out: an unquoted first word "A=b" would be a variable assignment.
  if (/^[A-Za-z0-9_./:@%+,-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * An argv as one shell command line, every element quoted: what `execve(argv)` would run, for ssh exec.
 * @example shellCommand(["squeue", "--jobs", "12,13"]) === "squeue --jobs 12,13"
 */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new HutchError(ErrorCode.Validation, "an empty command line");
  return argv.map(shellQuote).join(" ");
}

/**
 * A constant POSIX `sh` script run with positional arguments: `sh -c SCRIPT NAME ARG...`. The script text is
 * Hutch's own; everything variable travels as `$1..$n`, never pasted into the script.
 * @example shellScript('kill -TERM -- "-$1"', "cancel", [pid])
 */
export function shellScript(script: string, name: string, args: readonly string[]): string {
  return shellCommand(["sh", "-c", script, name, ...args]);
}
