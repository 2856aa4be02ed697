// An in-process pair of links: messages cross on the next microtask, like a socket would deliver them.
import type { Link } from "./protocol.js";

/**
 * Two connected link ends. Sending on one delivers to the other's handler asynchronously, so hooks never run
 * inside the caller's stack. Closing either end stops delivery both ways.
 */
export function inprocLinkPair<A, B>(): [Link<A, B>, Link<B, A>] {
  let closed = false;
  let toA: ((m: B) => void) | undefined;
  let toB: ((m: A) => void) | undefined;
  const a: Link<A, B> = {
    send: (m) => {
      if (!closed) queueMicrotask(() => !closed && toB?.(m));
    },
    onMessage: (fn) => {
      toA = fn;
    },
    close: () => {
      closed = true;
    },
  };
  const b: Link<B, A> = {
    send: (m) => {
      if (!closed) queueMicrotask(() => !closed && toA?.(m));
    },
    onMessage: (fn) => {
      toB = fn;
    },
    close: () => {
      closed = true;
    },
  };
  return [a, b];
}
