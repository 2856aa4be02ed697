// The page's link to the server: one WebSocket of binary monitor frames (reconnects forever), and REST calls.
import { useEffect, useState } from "react";
import { decodeFrame, type MonitorFrame } from "../../src/server/monitor-frame.js";

/** Connection state shown in the header. */
export type LinkState = "connecting" | "live" | "down";

type Listener = (f: MonitorFrame) => void;

const TOKEN_KEY = "hutch.token";

/** Paint latencies (ms) per panel, from the newest source document's time to the frame after drawing it. */
export interface PaintSample {
  readonly panel: string;
  readonly ms: number;
}

declare global {
  interface Window {
    /** Event-to-paint samples, read by the browser tests and bench/dashboard.ts. */
    __hutchPaints?: PaintSample[];
  }
}

/**
 * Keeps the WebSocket open: on close it retries with a growing delay (0.5 s to 5 s) and never gives up, so a
 * server restart or a network blip never leaves the page frozen. Frames are dispatched by panel id; the
 * newest frame of each panel is kept so a panel mounted later draws at once.
 */
class Connection {
  state: LinkState = "connecting";
  private ws: WebSocket | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly latest = new Map<string, MonitorFrame>();
  private readonly stateListeners = new Set<(s: LinkState) => void>();
  private retryMs = 500;

  get token(): string | undefined {
    return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  }

  set token(t: string | undefined) {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  }

  connect(): void {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const q = this.token ? `?token=${encodeURIComponent(this.token)}` : "";
    const ws = new WebSocket(`${proto}//${location.host}/ws${q}`);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 500;
      this.setState("live");
    };
    ws.onmessage = (e) => {
      if (!(e.data instanceof ArrayBuffer)) return;
      let f: MonitorFrame;
      try {
        f = decodeFrame(e.data);
      } catch (err) {
        console.warn("hutch: bad monitor frame", err);
        return;
      }
      this.latest.set(f.panel, f);
      for (const l of this.listeners.get(f.panel) ?? []) l(f);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.setState("down");
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(5000, this.retryMs * 2);
    };
  }

  /** Reconnects now (after the token changed). */
  reconnect(): void {
    const old = this.ws;
    this.ws = undefined;
    old?.close();
    this.setState("connecting");
    this.connect();
  }

  private setState(s: LinkState): void {
    this.state = s;
    for (const l of this.stateListeners) l(s);
  }

  onState(fn: (s: LinkState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /** Calls `fn` with every frame of a panel (at once with the newest one, if any). Returns an unsubscribe. */
  subscribe(panel: string, fn: Listener): () => void {
    let set = this.listeners.get(panel);
    if (!set) this.listeners.set(panel, (set = new Set()));
    set.add(fn);
    const last = this.latest.get(panel);
    if (last) fn(last);
    return () => set.delete(fn);
  }
}

/** The page's one connection. */
export const link = new Connection();

/** The newest frame of a panel, as React state (for panels drawn by React: status, logs, alarms). */
export function useFrame(panel: string): MonitorFrame | undefined {
  const [f, setF] = useState<MonitorFrame | undefined>(undefined);
  useEffect(() => link.subscribe(panel, setF), [panel]);
  return f;
}

/** The connection state, as React state. */
export function useLinkState(): LinkState {
  const [s, setS] = useState<LinkState>(link.state);
  useEffect(() => {
    setS(link.state); // it may have changed between the render and this effect
    return link.onState(setS);
  }, []);
  return s;
}

/**
 * Records the event-to-paint latency of a frame once the browser is about to paint what was just drawn:
 * now minus the newest source document's time (same clock on one machine).
 */
export function notePaint(f: MonitorFrame): void {
  if (f.src === undefined) return;
  const src = f.src;
  requestAnimationFrame(() => {
    const ms = performance.timeOrigin + performance.now() - src * 1000;
    const a = (window.__hutchPaints ??= []);
    a.push({ panel: f.panel, ms });
    if (a.length > 5000) a.splice(0, a.length - 5000);
  });
}

/** The result of a REST call: the HTTP status and the JSON body. */
export interface ApiResult<T = unknown> {
  readonly ok: boolean;
  readonly status: number;
  readonly body: T & { error?: { code: string; message: string } };
}

/** Calls the REST API with the token (when one is stored). */
export async function api<T = unknown>(
  method: "GET" | "POST" | "DELETE",
  path: string,
  body?: unknown,
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = {};
  if (link.token) headers.authorization = `Bearer ${link.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  try {
    const res = await fetch(path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const ct = res.headers.get("content-type") ?? "";
    const json = ct.includes("json") ? await res.json() : {};
    return { ok: res.ok, status: res.status, body: json };
  } catch (err) {
    return {
      ok: false,
      status: 0,
      body: { error: { code: "NETWORK", message: `server unreachable: ${String(err)}` } } as never,
    };
  }
}

/** Fetches a binary frame (a scan cell) from the REST API. */
export async function apiFrame(path: string): Promise<MonitorFrame | undefined> {
  const headers: Record<string, string> = {};
  if (link.token) headers.authorization = `Bearer ${link.token}`;
  const res = await fetch(path, { headers });
  if (!res.ok) return undefined;
  return decodeFrame(await res.arrayBuffer());
}
