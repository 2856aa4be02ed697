// Request bodies of the control API, validated at the boundary: a bad body is a 400 naming the field and the fix.
import { z } from "zod";
import { COMMANDS, ErrorCode, HutchError, type Command } from "../core/index.js";

/** A component as the server knows it from the instrument file: params as written and their schema. */
export interface ComponentInfo {
  readonly name: string;
  readonly type: string;
  readonly params: Record<string, unknown>;
  readonly schema?: z.ZodType;
}

const Reason = z
  .string()
  .max(1000)
  .optional()
  .describe("recorded in the log and, for stop/abort, in run-stop");

/** Body of every command but prepare (and start from STOP, which prepares first): an optional reason. */
export const CommandBody = z.strictObject({ reason: Reason });

/** Body of prepare: the run's plan and per-component param overrides; the rest of the run config is kept. */
export const PrepareBody = z.strictObject({
  plan: z.string().min(1).optional(),
  components: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  reason: Reason,
});
export type PrepareBody = z.infer<typeof PrepareBody>;

/** Body of a component action call. */
export const ActionBody = z.strictObject({
  params: z.unknown().optional(),
  timeoutMs: z.number().int().positive().max(600_000).optional(),
});

const where = (path: readonly PropertyKey[]): string => path.map(String).join(".") || "(body)";

/** Throws HUTCH_ERR_VALIDATION naming the first problem of a zod result. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const i = r.error.issues[0]!;
  const keys = i.code === "unrecognized_keys" ? ` ${(i as { keys: string[] }).keys.join(", ")}` : "";
  throw new HutchError(ErrorCode.Validation, `${what}: ${where(i.path)}: ${i.message}${keys}`);
}

/** The command of `POST /api/run/:command`, or a HUTCH_ERR_VALIDATION error listing the commands. */
export function parseCommand(s: string): Command {
  if ((COMMANDS as readonly string[]).includes(s)) return s as Command;
  throw new HutchError(ErrorCode.Validation, `unknown command '${s}'; one of: ${COMMANDS.join(", ")}`);
}

/**
 * Checks prepare's overrides against the components the file declares: every name must exist, and the file's
 * params merged with the override must pass the component type's schema. Throws HUTCH_ERR_VALIDATION naming
 * `components.<name>.<param>`.
 */
export function checkOverrides(body: PrepareBody, components: readonly ComponentInfo[]): void {
  for (const [name, override] of Object.entries(body.components ?? {})) {
    const c = components.find((x) => x.name === name);
    if (!c) {
      throw new HutchError(
        ErrorCode.Validation,
        `prepare: components.${name}: no component named '${name}' (have: ${components.map((x) => x.name).join(", ") || "none"})`,
      );
    }
    if (!c.schema) continue;
    const r = c.schema.safeParse({ ...c.params, ...override });
    if (!r.success) {
      const i = r.error.issues[0]!;
      const got = i.path.length ? (override as Record<string, unknown>)[String(i.path[0])] : undefined;
      throw new HutchError(
        ErrorCode.Validation,
        `prepare: components.${name}.${where(i.path)}: ${i.message}${got === undefined ? "" : ` (got ${JSON.stringify(got)})`}`,
      );
    }
  }
}
