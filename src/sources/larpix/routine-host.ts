// Runs routines for the LArPix source: one at a time, params validated, data saved with the current or next run.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ComponentContext } from "../../component/index.js";
import {
  ErrorCode,
  HutchError,
  nowSec,
  type FieldSpec,
  type NdArray,
  type StreamFactory,
} from "../../core/index.js";
import type { LarpixController } from "./larpix-controller.js";
import type { RoutineContext, RoutineRegistry, SavedData } from "./routines/index.js";

/** What the source offers a routine host while a run is on. */
export interface RunOutputs {
  readonly run: number;
  /** A stream of the run by name (its descriptor published once). */
  stream(name: string, fields: Record<string, FieldSpec>): Promise<StreamFactory>;
  /** Publishes a run message. */
  message(text: string): Promise<void>;
}

interface PendingSave {
  readonly stream: string;
  readonly fields: Record<string, FieldSpec>;
  readonly columns: Record<string, NdArray>;
  readonly time: number;
}

/** Plain JSON of columns (typed arrays as arrays; NaN as null). */
function columnsJson(columns: Record<string, NdArray>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, a] of Object.entries(columns)) {
    out[k] = Array.from(a.data as ArrayLike<number | bigint>, (v) =>
      typeof v === "bigint" ? Number(v) : Number.isFinite(v) ? v : null,
    );
  }
  return out;
}

/**
 * Hosts routine runs: validates params against the routine's schema, refuses a second routine while one runs,
 * streams progress, and saves data: into the current run, or (outside a run) into a JSON file under
 * `<dataDir>/larpix/` and into the next run when it starts, so every run file carries the calibration it used.
 */
export class RoutineHost {
  private busy: string | undefined;
  private readonly pending: PendingSave[] = [];
  private outputs: RunOutputs | undefined;

  constructor(
    private readonly ctx: ComponentContext,
    readonly registry: RoutineRegistry,
    private readonly controller: () => LarpixController,
    private readonly pixelOf: (g: number, c: number, id: number, ch: number) => number,
  ) {}

  /** The routine running now, if any. */
  get running(): string | undefined {
    return this.busy;
  }

  /** A run began (outputs) or ended (undefined); saved data waiting for a run is published into it. */
  async attach(outputs: RunOutputs | undefined): Promise<void> {
    this.outputs = outputs;
    if (!outputs) return;
    for (const s of this.pending.splice(0)) {
      const f = await outputs.stream(s.stream, s.fields);
      const n = Object.values(s.columns)[0]?.shape[0] ?? 0;
      await this.ctx.bus.publish(f.page(new Float64Array(n).fill(s.time), s.columns));
    }
  }

  /** Runs a routine by name; resolves with its result, rejects with its error (HutchError with a code). */
  async run(
    name: string,
    params: unknown,
    progress: (message: string, data?: unknown) => void,
  ): Promise<unknown> {
    const routine = this.registry.get(name);
    const p = this.registry.parse(name, params);
    if (this.busy) {
      throw new HutchError(
        ErrorCode.Transition,
        `routine '${this.busy}' is running; '${name}' must wait until it ends`,
      );
    }
    this.busy = name;
    const started = performance.now();
    this.ctx.log.info(`routine ${name} started`);
    try {
      const result = await routine.run(this.context(name, progress), p);
      this.ctx.counters.inc("routines_done");
      this.ctx.log.info(`routine ${name} done in ${Math.round(performance.now() - started)} ms`);
      return result;
    } catch (err) {
      this.ctx.counters.inc("routines_failed");
      this.ctx.log.warn(`routine ${name} failed: ${String((err as Error).message ?? err)}`);
      throw err;
    } finally {
      this.busy = undefined;
    }
  }

  private context(name: string, progress: (message: string, data?: unknown) => void): RoutineContext {
    return {
      controller: this.controller(),
      log: this.ctx.log,
      signal: this.ctx.signal,
      progress,
      pixelOf: this.pixelOf,
      note: async (message) => {
        if (this.outputs) await this.outputs.message(message.slice(0, 64));
        this.ctx.log.info(message);
      },
      save: (stream, fields, columns) => this.save(name, stream, fields, columns),
    };
  }

  private async save(
    routine: string,
    stream: string,
    fields: Record<string, FieldSpec>,
    columns: Record<string, NdArray>,
  ): Promise<SavedData> {
    const time = nowSec();
    const n = Object.values(columns)[0]?.shape[0] ?? 0;
    const out = this.outputs;
    if (out) {
      const f = await out.stream(stream, fields);
      await this.ctx.bus.publish(f.page(new Float64Array(n).fill(time), columns));
      return { stream, run: out.run };
    }
    this.pending.push({ stream, fields, columns, time });
    const dir = join(this.ctx.dataDir, "larpix");
    const file = join(dir, `${stream}-${new Date(time * 1000).toISOString().replace(/[:.]/g, "-")}.json`);
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, JSON.stringify({ routine, stream, time, fields, columns: columnsJson(columns) }));
    } catch (cause) {
      throw new HutchError(
        ErrorCode.Io,
        `routine ${routine}: cannot write ${file}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    return { stream, file };
  }
}
