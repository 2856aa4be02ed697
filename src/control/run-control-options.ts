// Options of the run-control core (from the instrument file's `core:` section) and the state of a run in progress.
import type { RunFactory } from "../core/index.js";
import type { InprocBus } from "../transport/index.js";
import type { WatchdogSpec } from "./watchdogs.js";

/** Options of the core, from the instrument file's `core:` section. */
export interface RunControlOptions {
  readonly instrument: string;
  readonly bus: InprocBus;
  readonly dataDir: string;
  /** The instrument file as loaded; recorded in every run-start with the run's overrides. */
  readonly config: Record<string, unknown>;
  /** A component is lost after this long without a heartbeat (default 1500 ms = 5 missed beats). */
  readonly lostAfterMs?: number;
  /** Time a hook may take on each component (default 10 s). */
  readonly hookTimeoutMs?: number;
  /** What a lost or failed component does to a run: end it in ERROR (default) or pause it. */
  readonly onComponentFault?: "error" | "pause";
  readonly watchdogs?: readonly WatchdogSpec[];
  /** Components the file declares: the system is not READY until they have registered. */
  readonly expected?: readonly string[];
  /** The run configuration `prepare` uses when the operator gives none (the file's `run:` section). */
  readonly defaultRun?: Record<string, unknown>;
  readonly now?: () => number;
}

/** The run in progress. */
export interface ActiveRun {
  readonly factory: RunFactory;
  readonly startedAtMs: number;
  /** A replay: documents come from a file; sources are neither started nor stopped. */
  readonly replay?: boolean;
}
