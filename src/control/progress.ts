// Operator call plumbing: a progress channel that always ends (result, error or timeout), never hangs.
import { BoundedQueue, ErrorCode, HutchError, toHutchError } from "../core/index.js";
import type { Progress } from "./api-types.js";

/** Default time an operator call may take before it ends with a timeout error. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/**
 * Runs `work` with a `progress` callback and returns the progress stream: progress lines, then exactly one
 * `result` (the value `work` resolves to) or `error` (what it throws, or HUTCH_ERR_TIMEOUT after `timeoutMs`).
 * The stream ends right after that last item even if `work` goes on.
 * @example for await (const p of progressOf((say) => doIt(say), 5000)) console.log(p);
 */
export function progressOf(
  work: (say: (message: string, data?: unknown) => void) => Promise<unknown>,
  timeoutMs: number = DEFAULT_CALL_TIMEOUT_MS,
  what = "call",
): AsyncIterable<Progress> {
  const q = new BoundedQueue<Progress>({ capacity: 10_000, overflow: "drop-oldest", name: what });
  let ended = false;
  const end = (p: Progress) => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    q.push(p);
    q.close();
  };
  const timer = setTimeout(
    () =>
      end({ type: "error", code: ErrorCode.Timeout, message: `${what}: no result within ${timeoutMs} ms` }),
    timeoutMs,
  );
  const say = (message: string, data?: unknown) => {
    if (!ended)
      q.push(data === undefined ? { type: "progress", message } : { type: "progress", message, data });
  };
  void (async () => {
    try {
      const data = await work(say);
      end(data === undefined ? { type: "result" } : { type: "result", data });
    } catch (err) {
      const e = toHutchError(err);
      end({ type: "error", code: e.code, message: e.message });
    }
  })();
  return q;
}

/** Consumes a progress stream; resolves with the result data or throws the error as a HutchError. */
export async function resultOf(
  stream: AsyncIterable<Progress>,
  onProgress?: (p: Progress) => void,
): Promise<unknown> {
  for await (const p of stream) {
    if (p.type === "result") return p.data;
    if (p.type === "error") throw new HutchError(p.code as ErrorCode, p.message);
    onProgress?.(p);
  }
  throw new HutchError(ErrorCode.Internal, "progress stream ended without a result");
}
