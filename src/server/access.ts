// Who may do what: loopback binds are open; off loopback, control needs the token and viewing needs it if configured.
import { timingSafeEqual } from "node:crypto";

/** The error code of a refused request (to be added to the HUTCH_ERR_* catalogue in core/errors.ts). */
export const UNAUTHORIZED = "HUTCH_ERR_UNAUTHORIZED";

/** What a request wants to do. */
export type AccessKind = "view" | "control";

/** Server settings that decide access (the instrument file's `server:` section). */
export interface AccessOptions {
  readonly host: string;
  readonly token?: string;
  /** Also require the token for viewing when bound off loopback. */
  readonly viewerToken?: boolean;
}

/** A refusal: HTTP status and a message naming what is missing. */
export interface Refusal {
  readonly status: 401 | 403;
  readonly code: typeof UNAUTHORIZED;
  readonly message: string;
}

/** True for 127.0.0.0/8, ::1, ::ffff:127.x and `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

/** Where a token may come from: `Authorization: Bearer <t>`, `X-Hutch-Token: <t>`, or `?token=<t>` (WebSocket). */
export function tokenOf(headers: Record<string, unknown>, query: unknown): string | undefined {
  const auth = headers["authorization"];
  if (typeof auth === "string" && auth.startsWith("Bearer ")) return auth.slice(7).trim();
  const x = headers["x-hutch-token"];
  if (typeof x === "string" && x) return x;
  const q = (query as { token?: unknown } | undefined)?.token;
  return typeof q === "string" && q ? q : undefined;
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * The access policy of one server.
 * @example const p = new AccessPolicy({ host: "0.0.0.0", token: "s3cret" }); p.check("control", undefined); // 401
 */
export class AccessPolicy {
  readonly loopback: boolean;
  constructor(private readonly opts: AccessOptions) {
    this.loopback = isLoopback(opts.host);
  }

  /** True when control requests must carry the token. */
  get controlNeedsToken(): boolean {
    return !this.loopback;
  }

  /** True when viewing (GET, WebSocket) must carry the token. */
  get viewNeedsToken(): boolean {
    return !this.loopback && (this.opts.viewerToken ?? false);
  }

  /** Undefined when allowed, else why not. */
  check(kind: AccessKind, token: string | undefined): Refusal | undefined {
    const needs = kind === "control" ? this.controlNeedsToken : this.viewNeedsToken;
    if (!needs) return undefined;
    const what = kind === "control" ? "run control" : "viewing";
    if (!this.opts.token) {
      return {
        status: 403,
        code: UNAUTHORIZED,
        message: `${what} is refused: the server is bound to ${this.opts.host} (not loopback) and server.token is not set in the instrument file`,
      };
    }
    if (!token) {
      return {
        status: 401,
        code: UNAUTHORIZED,
        message: `${what} needs the token when the server is bound to ${this.opts.host}: send 'Authorization: Bearer <token>'`,
      };
    }
    if (!same(token, this.opts.token)) {
      return { status: 403, code: UNAUTHORIZED, message: `${what}: the token is wrong` };
    }
    return undefined;
  }
}
