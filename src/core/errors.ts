// Typed, coded errors: one catalogue of HUTCH_ERR_* codes, every error carries a cause when it has one.

/** The catalogue of error codes; tests assert on these, never on messages. */
export const ErrorCode = {
  Config: "HUTCH_ERR_CONFIG",
  Validation: "HUTCH_ERR_VALIDATION",
  Wire: "HUTCH_ERR_WIRE",
  Timeout: "HUTCH_ERR_TIMEOUT",
  Closed: "HUTCH_ERR_CLOSED",
  Transition: "HUTCH_ERR_TRANSITION",
  ComponentLost: "HUTCH_ERR_COMPONENT_LOST",
  ComponentFailed: "HUTCH_ERR_COMPONENT_FAILED",
  UnknownComponent: "HUTCH_ERR_UNKNOWN_COMPONENT",
  UnknownAction: "HUTCH_ERR_UNKNOWN_ACTION",
  Overflow: "HUTCH_ERR_OVERFLOW",
  Io: "HUTCH_ERR_IO",
  Aborted: "HUTCH_ERR_ABORTED",
  Unauthorized: "HUTCH_ERR_UNAUTHORIZED",
  Internal: "HUTCH_ERR_INTERNAL",
} as const;

/** One of the `HUTCH_ERR_*` codes. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The one error class of Hutch: a stable `code`, a human message that names the problem, an optional cause.
 * @example throw new HutchError(ErrorCode.Timeout, "run start: no reply from 'camera' within 5000 ms");
 */
export class HutchError extends Error {
  override readonly name = "HutchError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.details = options?.details;
  }
  readonly details: Record<string, unknown> | undefined;

  /** A plain object for the wire (code, message, details); the stack stays local. */
  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

/** Wraps anything thrown into a HutchError, keeping the original as `cause`. */
export function toHutchError(err: unknown, code: ErrorCode = ErrorCode.Internal): HutchError {
  if (err instanceof HutchError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new HutchError(code, message, { cause: err });
}

/** True when `err` is a HutchError with the given code. */
export function isHutchError(err: unknown, code?: ErrorCode): err is HutchError {
  return err instanceof HutchError && (code === undefined || err.code === code);
}
