// The logger interface every component receives; the runtime forwards its lines to the core as log documents.
import type { LogLevel } from "./documents.js";

/** Structured logger: a message that names the problem, plus optional fields. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that hands every line to `sink`. */
export function makeLogger(
  sink: (level: LogLevel, message: string, fields?: Record<string, unknown>) => void,
): Logger {
  return {
    debug: (m, f) => sink("debug", m, f),
    info: (m, f) => sink("info", m, f),
    warn: (m, f) => sink("warn", m, f),
    error: (m, f) => sink("error", m, f),
  };
}

/**
 * Passes at most `perWindow` calls per `windowMs` and counts the rest, so a flood of bad input cannot flood the log.
 * @example const limit = new RateLimiter(10, 1000); if (limit.take()) log.warn("bad datagram ...");
 */
export class RateLimiter {
  private windowStart = 0;
  private used = 0;
  /** Calls refused since the last allowed one. */
  suppressed = 0;
  constructor(
    readonly perWindow: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when the call may proceed. */
  take(): boolean {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      this.windowStart = t;
      this.used = 0;
    }
    if (this.used < this.perWindow) {
      this.used++;
      return true;
    }
    this.suppressed++;
    return false;
  }
}
