// A storage failure that names the file and the OS error (disk full, read-only, permission), from Node or HDF5 errors.
import { ErrorCode, HutchError } from "../core/index.js";
import type { OsFailure } from "./worker-protocol.js";

/** OS error texts (as HDF5 prints them via strerror) and their errno names. */
const ERRNO_BY_TEXT: Readonly<Record<string, string>> = {
  "No space left on device": "ENOSPC",
  "Read-only file system": "EROFS",
  "Permission denied": "EACCES",
  "Operation not permitted": "EPERM",
  "Disk quota exceeded": "EDQUOT",
  "Input/output error": "EIO",
  "I/O error": "EIO",
  "No such file or directory": "ENOENT",
  "File exists": "EEXIST",
  "File too large": "EFBIG",
  "Not a directory": "ENOTDIR",
  "Is a directory": "EISDIR",
};

const NODE_TEXT_RE = /^[A-Z]+: ([^,]+),/;
const HDF5_TEXT_RE = /error message = '([^']+)'/;

/**
 * The OS cause of an error: a Node fs error (`code` + text) or an HDF5 error stack that quotes `strerror`.
 * Undefined when the error is not an OS error.
 */
export function osFailureOf(err: unknown): OsFailure | undefined {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const message = typeof e?.message === "string" ? e.message : String(err);
  if (typeof e?.code === "string" && /^E[A-Z]+$/.test(e.code)) {
    return { code: e.code, message: NODE_TEXT_RE.exec(message)?.[1] ?? message };
  }
  const text = HDF5_TEXT_RE.exec(message)?.[1];
  if (text) {
    const code = ERRNO_BY_TEXT[text];
    return code ? { code, message: text } : { message: text };
  }
  return undefined;
}

/** The last meaningful line of an HDF5 error stack (or the message itself), for a one-line reason. */
function shortCause(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const lines = message.split("\n").filter((l) => /#\d+:/.test(l));
  const last = lines.at(-1);
  if (!last) return message.split("\n")[0] ?? message;
  return last.replace(/^.*? in ([A-Za-z0-9_]+\(\)): /, "$1: ").trim();
}

/**
 * Thrown (and reported to the component) when a run file cannot be created or written. The message names
 * the file and the OS error: `cannot write run file /data/demo_run00007.h5: No space left on device (ENOSPC)`.
 */
export class StorageFailure extends HutchError {
  readonly path: string | undefined;
  readonly os: OsFailure | undefined;
  /** HDF5's error stack or the original message. */
  readonly detail: string;

  constructor(path: string | undefined, action: string, cause: unknown, os?: OsFailure, message?: string) {
    const verb = action === "open" ? "create" : action === "close" ? "close" : "write";
    const what = path ? `run file ${path}` : "run file";
    const why = os ? `${os.message}${os.code ? ` (${os.code})` : ""}` : shortCause(cause);
    super(ErrorCode.Io, message ?? `cannot ${verb} ${what}: ${why}`, { cause, details: { path, os } });
    this.path = path;
    this.os = os;
    this.detail = cause instanceof Error ? cause.message : String(cause);
  }
}
