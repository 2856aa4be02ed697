// WsSession throttling: each panel at most maxUpdateHz frames a second, always the newest, nothing while backed up.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { MonitorHub } from "./monitor-hub.js";
import { WsSession, type FrameSocket } from "./ws-session.js";

/** A hub stand-in whose panel `p` has a version that the test bumps; frames carry the version. */
function stubHub() {
  let version = 0;
  const listeners = new Set<(id: string) => void>();
  const hub = {
    ids: () => ["p"],
    onChange: (fn: (id: string) => void) => (listeners.add(fn), () => listeners.delete(fn)),
    frame: () => new Uint8Array([version]),
  } as unknown as MonitorHub;
  return { hub, bump: () => (version++, listeners.forEach((l) => l("p"))) };
}

function socket(buffered = 0): FrameSocket & { sent: number[] } {
  const sent: number[] = [];
  return {
    sent,
    readyState: 1,
    bufferedAmount: buffered,
    send: (d) => sent.push(d[0]!),
    close: () => undefined,
    on: () => undefined,
  };
}

afterEach(() => vi.useRealTimers());

describe("WsSession", () => {
  it("sends a panel at most maxUpdateHz times a second, and the last frame is the newest", () => {
    vi.useFakeTimers();
    const { hub, bump } = stubHub();
    const ws = socket();
    const counters = { framesSent: 0, framesSkipped: 0 };
    const s = new WsSession(ws, hub, { maxUpdateHz: 5 }, counters);
    vi.advanceTimersByTime(0);
    for (let i = 0; i < 100; i++) {
      bump();
      vi.advanceTimersByTime(10); // 100 changes over one second
    }
    vi.advanceTimersByTime(500);
    expect(ws.sent.length).toBeGreaterThanOrEqual(5);
    expect(ws.sent.length).toBeLessThanOrEqual(7); // a burst of 2, then one per 200 ms
    expect(ws.sent.at(-1)).toBe(100);
    expect(counters.framesSent).toBe(ws.sent.length);
    s.close();
  });

  it("a change after a quiet period goes out at once", () => {
    vi.useFakeTimers();
    const { hub, bump } = stubHub();
    const ws = socket();
    const s = new WsSession(ws, hub, { maxUpdateHz: 2 }, { framesSent: 0, framesSkipped: 0 });
    vi.advanceTimersByTime(2000);
    const before = ws.sent.length;
    bump();
    vi.advanceTimersByTime(0);
    expect(ws.sent.length).toBe(before + 1);
    s.close();
  });

  it("sends nothing while the socket is backed up, and counts what it skipped", () => {
    vi.useFakeTimers();
    const { hub, bump } = stubHub();
    const ws = socket(64 * 1024 * 1024);
    const counters = { framesSent: 0, framesSkipped: 0 };
    const s = new WsSession(ws, hub, { maxUpdateHz: 10 }, counters);
    for (let i = 0; i < 20; i++) {
      bump();
      vi.advanceTimersByTime(50);
    }
    expect(ws.sent).toEqual([]);
    expect(counters.framesSkipped).toBeGreaterThan(0);
    s.close();
  });
});
