// Routines: named plug-ins with typed (zod) params that run on the LArPix controller, streaming progress and data.
import { z, type ZodType } from "zod";
import { ErrorCode, HutchError, type FieldSpec, type Logger, type NdArray } from "../../../core/index.js";
import type { LarpixController } from "../larpix-controller.js";

/** Where a routine's saved data went: a stream of the current run, or (outside a run) the next run and a file. */
export interface SavedData {
  readonly stream: string;
  /** The run the data belongs to; undefined when it waits for the next run. */
  readonly run?: number;
  /** A JSON copy written outside a run. */
  readonly file?: string;
}

/** What a routine gets: the controller, progress, saving data with the run, a log and an abort signal. */
export interface RoutineContext {
  readonly controller: LarpixController;
  readonly log: Logger;
  /** Aborted when the component shuts down. */
  readonly signal: AbortSignal;
  /** Streams a progress line (and optional data) to the operator who called the routine. */
  progress(message: string, data?: unknown): void;
  /**
   * Saves columns (first axis = rows) as a stream of the run: published at once during a run, else kept for the
   * start of the next run and written to `<dataDir>/larpix/<stream>-<time>.json`.
   */
  save(
    stream: string,
    fields: Record<string, FieldSpec>,
    columns: Record<string, NdArray>,
  ): Promise<SavedData>;
  /** The pixel a chip channel reads (-1 when the layout has none). */
  pixelOf(ioGroup: number, ioChannel: number, chipId: number, channel: number): number;
  /** Adds a run message (`messages` stream), e.g. "calibrate: begin". */
  note(message: string): Promise<void>;
}

/** A routine: a name, a description, typed params and the work. */
export interface RoutineDef<P = unknown> {
  readonly name: string;
  readonly description: string;
  readonly params: ZodType<P>;
  run(ctx: RoutineContext, params: P): Promise<unknown>;
}

/**
 * Keeps a routine's param type.
 * @example export const hello = defineRoutine({ name: "hello", description: "...", params: z.object({}), run: async (ctx) => "hi" });
 */
export function defineRoutine<P>(def: RoutineDef<P>): RoutineDef<P> {
  return def;
}

/** True when a module export looks like a routine (plug-in modules may export several). */
export function isRoutine(v: unknown): v is RoutineDef<unknown> {
  const r = v as Partial<RoutineDef<unknown>> | null;
  return (
    typeof r === "object" &&
    r !== null &&
    typeof r.name === "string" &&
    typeof r.run === "function" &&
    typeof (r.params as { safeParse?: unknown } | undefined)?.safeParse === "function"
  );
}

/** A routine as listed to operators: name, description and its params as JSON Schema (for forms). */
export interface RoutineInfo {
  readonly name: string;
  readonly description: string;
  readonly params: unknown;
}

/** Routines by name. */
export class RoutineRegistry {
  private readonly routines = new Map<string, RoutineDef<unknown>>();

  /** Adds a routine; HUTCH_ERR_CONFIG when the name is taken. */
  register(def: RoutineDef<never> | RoutineDef<unknown>): void {
    if (!/^[A-Za-z0-9_.-]+$/.test(def.name)) {
      throw new HutchError(
        ErrorCode.Config,
        `routine name '${def.name}': letters, digits, '_', '.', '-' only`,
      );
    }
    if (this.routines.has(def.name))
      throw new HutchError(ErrorCode.Config, `a routine named '${def.name}' exists`);
    this.routines.set(def.name, def as RoutineDef<unknown>);
  }

  /** The routine named `name`; HUTCH_ERR_VALIDATION lists the known ones. */
  get(name: string): RoutineDef<unknown> {
    const r = this.routines.get(name);
    if (!r) {
      throw new HutchError(
        ErrorCode.Validation,
        `no routine '${name}' (routines: ${this.names().join(", ") || "none"})`,
      );
    }
    return r;
  }

  names(): string[] {
    return [...this.routines.keys()];
  }

  /** Every routine with its params schema as JSON Schema. */
  list(): RoutineInfo[] {
    return [...this.routines.values()].map((r) => ({
      name: r.name,
      description: r.description,
      params: jsonSchemaOf(r.params),
    }));
  }

  /**
   * Validates params against the routine's schema: HUTCH_ERR_VALIDATION names the routine, the field and the
   * value.
   */
  parse(name: string, params: unknown): unknown {
    const r = this.get(name);
    const p = r.params.safeParse(params ?? {});
    if (!p.success) {
      const i = p.error.issues[0]!;
      throw new HutchError(
        ErrorCode.Validation,
        `routine ${name}: params.${i.path.join(".") || "(all)"}: ${i.message}`,
      );
    }
    return p.data;
  }
}

function jsonSchemaOf(s: ZodType): unknown {
  try {
    return z.toJSONSchema(s, { io: "input", unrepresentable: "any" });
  } catch {
    return {};
  }
}
