// The LArPix operator API in TypeScript: larpix-daq's Operator calls over any OperatorApi, each ending with result/error/timeout.
import type { Command } from "../../core/index.js";

/** One step of an operator call (the shape of control's `Progress`). */
export type OperatorProgress =
  | { readonly type: "progress"; readonly message: string; readonly data?: unknown }
  | { readonly type: "result"; readonly data?: unknown }
  | { readonly type: "error"; readonly code: string; readonly message: string };

/** What the LArPix operator needs of an operator API (`connect(address)` or the in-process `RunControl`). */
export interface OperatorLike {
  command(
    command: Command,
    params?: Record<string, unknown>,
    opts?: { timeoutMs?: number },
  ): AsyncIterable<OperatorProgress>;
  call(
    component: string,
    action: string,
    params?: unknown,
    opts?: { timeoutMs?: number },
  ): AsyncIterable<OperatorProgress>;
}

/** Options of a LArPix operator. */
export interface LarpixOperatorOptions {
  /** The `larpix-board` component's name (default `board`). */
  readonly board?: string;
  /** The `larpix-monitor` component's name (default `recent`). */
  readonly monitor?: string;
  /** Deadline of calls that do not give one (default 10 s; routines 60 s). */
  readonly timeoutMs?: number;
}

/**
 * larpix-daq's Operator on Hutch: every method returns the progress stream of one call, which always ends with a
 * `result`, an `error` or (HUTCH_ERR_TIMEOUT) a timeout — never a hang. Use `resultOf()` for the result alone.
 * @example
 * const op = new LarpixOperator(connect("tcp://127.0.0.1:5561"));
 * for await (const p of op.runRoutine("calibrate", { samples: 200 })) console.log(p);
 */
export class LarpixOperator {
  readonly board: string;
  readonly monitor: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly api: OperatorLike,
    opts: LarpixOperatorOptions = {},
  ) {
    this.board = opts.board ?? "board";
    this.monitor = opts.monitor ?? "recent";
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  private t(timeoutMs?: number, base = this.timeoutMs): { timeoutMs: number } {
    return { timeoutMs: timeoutMs ?? base };
  }

  /** STOP/READY -> READY: every component configured (the boards pinged, reset, clocked, chips written). */
  prepareRun(config: Record<string, unknown> = {}, timeoutMs?: number): AsyncIterable<OperatorProgress> {
    return this.api.command("prepare", config, this.t(timeoutMs, 40_000));
  }

  /** READY -> RUN: a new run (prepares first from STOP). */
  beginRun(timeoutMs?: number): AsyncIterable<OperatorProgress> {
    return this.api.command("start", {}, this.t(timeoutMs, 40_000));
  }

  /** RUN -> STOP: ends the run; the result has the run number, exit status, counts and files. */
  endRun(reason?: string, timeoutMs?: number): AsyncIterable<OperatorProgress> {
    return this.api.command("stop", reason ? { reason } : {}, this.t(timeoutMs, 40_000));
  }

  /** Loads a board file (chips and configurations); `write` also writes them to the chips. */
  loadBoard(file: string, write = false, timeoutMs?: number): AsyncIterable<OperatorProgress> {
    return this.api.call(this.board, "load-board", { file, write }, this.t(timeoutMs));
  }

  /** Writes the stored configuration to chips (default all). */
  writeConfiguration(chips?: string[], timeoutMs?: number): AsyncIterable<OperatorProgress> {
    return this.api.call(this.board, "write-config", chips ? { chips } : {}, this.t(timeoutMs));
  }

  /** Reads a chip's registers back. */
  readConfiguration(chip: string, timeoutMs?: number): AsyncIterable<OperatorProgress> {
    return this.api.call(this.board, "read-config", { chip }, this.t(timeoutMs));
  }

  /** Reads chips back and compares: `{ok, chips: [{chip, ok, differences: {name: [actual, stored]}}]}`. */
  validateConfiguration(chips?: string[], timeoutMs?: number): AsyncIterable<OperatorProgress> {
    return this.api.call(this.board, "validate-config", chips ? { chips } : {}, this.t(timeoutMs));
  }

  /** Changes a chip's stored configuration and writes it (unless `write` is false). */
  setConfiguration(
    chip: string,
    config: Record<string, unknown>,
    write = true,
    timeoutMs?: number,
  ): AsyncIterable<OperatorProgress> {
    return this.api.call(this.board, "set-config", { chip, config, write }, this.t(timeoutMs));
  }

  /** The boards (address, last sign of life, lost) and chips. */
  boards(timeoutMs?: number): AsyncIterable<OperatorProgress> {
    return this.api.call(this.board, "boards", {}, this.t(timeoutMs));
  }

  /** The routines with their params as JSON Schema. */
  listRoutines(timeoutMs?: number): AsyncIterable<OperatorProgress> {
    return this.api.call(this.board, "routines", {}, this.t(timeoutMs));
  }

  /** Runs a routine; its progress lines stream while it runs; the result or error ends the stream. */
  runRoutine(
    name: string,
    params: Record<string, unknown> = {},
    timeoutMs?: number,
  ): AsyncIterable<OperatorProgress> {
    return this.api.call(this.board, "routine", { name, params }, this.t(timeoutMs, 60_000));
  }

  /** The last packets (rows) and messages of the run, from the monitor. */
  recent(last?: number, timeoutMs?: number): AsyncIterable<OperatorProgress> {
    return this.api.call(this.monitor, "recent", last ? { last } : {}, this.t(timeoutMs));
  }
}
