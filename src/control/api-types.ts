// The operator-facing surface of run control: what the CLI, the TypeScript client and the web server call.
import type { Command, ExitStatus, Log, RunFile, RunState } from "../core/index.js";

export type { RunFile } from "../core/index.js";

/** One step of an operator call: progress lines, then exactly one `result` or `error` (a timeout is an error). */
export type Progress =
  | { readonly type: "progress"; readonly message: string; readonly data?: unknown }
  | { readonly type: "result"; readonly data?: unknown }
  | { readonly type: "error"; readonly code: string; readonly message: string };

/** A component as the core sees it. */
export interface ComponentStatus {
  readonly name: string;
  readonly type: string;
  readonly state: RunState;
  /** Milliseconds since the last heartbeat. */
  readonly heartbeatAgeMs: number;
  readonly lost: boolean;
  readonly counters: Record<string, number>;
  readonly lastError?: string;
  readonly actions: { name: string; description: string }[];
  /** `inproc` or the process id of its own process. */
  readonly placement: string;
}

/** The whole system. */
export interface SystemStatus {
  readonly instrument: string;
  readonly state: RunState;
  readonly reason?: string;
  readonly run?: {
    readonly number: number;
    readonly uid: string;
    readonly startedAt: number;
    readonly counts: Record<string, number>;
  };
  readonly lastRun?: number;
  readonly allowed: Command[];
  readonly components: ComponentStatus[];
  /** The core process's bus: `published` and `<subscription>.<delivered|dropped|blocked|depth>`. */
  readonly bus?: Record<string, number>;
  /** The configuration the next (or current) run is prepared with. */
  readonly config: Record<string, unknown>;
}

/** One row of the run catalog. */
export interface CatalogEntry {
  readonly run: number;
  readonly uid: string;
  readonly instrument: string;
  readonly plan: string;
  readonly startTime: number;
  readonly stopTime?: number;
  readonly exitStatus?: ExitStatus;
  readonly reason?: string;
  readonly counts: Record<string, number>;
  readonly config: Record<string, unknown>;
  readonly files: RunFile[];
  readonly replay?: { of: string; file: string };
}

/** Options of every operator call. */
export interface CallOptions {
  /** The call ends with a HUTCH_ERR_TIMEOUT error after this long (default 10 s). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * What an operator can do. Every streaming call ends with a result, an error or a timeout; never hangs.
 * Implemented in-process by the core and over ZeroMQ by `connect(address)`.
 */
export interface OperatorApi {
  /** A run-control command; `prepare` takes the run configuration (per-component overrides, plan). */
  command(command: Command, params?: Record<string, unknown>, opts?: CallOptions): AsyncIterable<Progress>;
  /** Calls a component's named action. */
  call(component: string, action: string, params?: unknown, opts?: CallOptions): AsyncIterable<Progress>;
  /**
   * Replays stored run files (parts of one run, in order) as a new run through the live chain, at `speed` times
   * the recorded pace (0 = as fast as the chain takes them). Progress data: `{events, total, percent}`.
   */
  replay(files: readonly string[], opts?: CallOptions & { speed?: number }): AsyncIterable<Progress>;
  status(opts?: CallOptions): Promise<SystemStatus>;
  runs(opts?: CallOptions): Promise<CatalogEntry[]>;
  logs(opts?: CallOptions & { last?: number }): Promise<Log[]>;
}
