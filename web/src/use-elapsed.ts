// Elapsed run time on the server's clock, re-rendering once a second.
import { useEffect, useState } from "react";
import type { StatusView } from "./types.js";

/** Seconds since the current run started (undefined outside a run), ticking once a second. */
export function useElapsed(status: StatusView | undefined): number | undefined {
  const [, tick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => tick((x) => x + 1), 1000);
    return () => clearInterval(t);
  }, []);
  if (!status?.run) return undefined;
  const skew = status.now - Date.now() / 1000;
  return Date.now() / 1000 + skew - status.run.startedAt;
}
