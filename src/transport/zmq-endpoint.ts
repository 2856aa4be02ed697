// Binding or connecting a ZeroMQ socket to an address, with errors that name the address and the fix.
import { ErrorCode, HutchError } from "../core/index.js";
import type { FrameSocket } from "./native-zmq.js";

/** How a socket attaches to its address: `bind` listens (the stable side), `connect` dials it. */
export const ATTACH_MODES = ["bind", "connect"] as const;
/** An attach mode. */
export type AttachMode = (typeof ATTACH_MODES)[number];

/**
 * Binds or connects `socket` to `address` and returns the resolved endpoint (a bound `tcp://127.0.0.1:0`
 * becomes the port the kernel chose). Throws HUTCH_ERR_IO naming the address; the socket is closed then.
 * @example const endpoint = await attachSocket(sock, "tcp://127.0.0.1:0", "bind");
 */
export async function attachSocket(socket: FrameSocket, address: string, mode: AttachMode): Promise<string> {
  try {
    if (mode === "bind") {
      await bindWithRetry(socket, address);
      return socket.lastEndpoint ?? address;
    }
    socket.connect(address);
    return address;
  } catch (cause) {
    socket.close();
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new HutchError(
      ErrorCode.Io,
      `cannot ${mode} a ZeroMQ socket to '${address}': ${why}` +
        (mode === "bind" ? " (is the port in use, or the address not local?)" : " (is the address valid?)"),
      { cause, details: { address, mode } },
    );
  }
}

/**
 * Binds, retrying for up to `withinMs` while the address is still in use: a socket closed a moment ago (a core
 * restarted on the same port) releases its port asynchronously in ZeroMQ's I/O thread.
 */
export async function bindWithRetry(socket: FrameSocket, address: string, withinMs = 2000): Promise<void> {
  const until = Date.now() + withinMs;
  for (;;) {
    try {
      await socket.bind(address);
      return;
    } catch (err) {
      const inUse = (err as { code?: string }).code === "EADDRINUSE";
      if (!inUse || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Calls `close` when `signal` aborts (at once if it already has). Returns a function that unlinks it, for
 * `close()` to call so a long-lived signal does not keep closed sockets reachable.
 */
export function linkAbort(signal: AbortSignal | undefined, close: () => void): () => void {
  if (!signal) return () => undefined;
  if (signal.aborted) {
    close();
    return () => undefined;
  }
  signal.addEventListener("abort", close, { once: true });
  return () => signal.removeEventListener("abort", close);
}
