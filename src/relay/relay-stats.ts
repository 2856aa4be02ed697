// Counters of the relay (DAQ side, detector side), exported as metrics by `hutch relay`; the shared-token check.
import { createHash, timingSafeEqual } from "node:crypto";

/** What the relay has done since it started. */
export interface RelayStats {
  daq_connections: number;
  daq_open: number;
  daq_errors: number;
  messages_raw: number;
  messages_ndjson: number;
  arms_ok: number;
  arms_refused: number;
  arms_invalid: number;
  unauthorised: number;
  agent_connections: number;
  agent_lost: number;
  notices: number;
}

/** A zeroed set of relay counters. */
export function relayStats(): RelayStats {
  return {
    daq_connections: 0,
    daq_open: 0,
    daq_errors: 0,
    messages_raw: 0,
    messages_ndjson: 0,
    arms_ok: 0,
    arms_refused: 0,
    arms_invalid: 0,
    unauthorised: 0,
    agent_connections: 0,
    agent_lost: 0,
    notices: 0,
  };
}

/** Compares a given token with the expected one in constant time. */
export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== "string") return false;
  const h = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(h(expected), h(given));
}
