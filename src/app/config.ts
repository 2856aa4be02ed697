// The instrument file: one YAML file names the instrument, its components, addresses and parameters; validated at load.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse, YAMLParseError } from "yaml";
import { z } from "zod";
import { ErrorCode, HutchError } from "../core/index.js";
import type { ComponentDef } from "../component/index.js";
import { PanelsSection } from "./panels.js";

const Address = z
  .string()
  .regex(
    /^(tcp:\/\/[^:]+:\d+|ipc:\/\/.+|inproc:\/\/.+)$/,
    "expected a ZeroMQ address like tcp://127.0.0.1:5551",
  );

/** The `core:` section: where the run-control core listens, where documents are published, where data goes. */
export const CoreSection = z.strictObject({
  /** ROUTER socket: components register here, operators (CLI, client) call here. */
  control: Address.default("tcp://127.0.0.1:5551"),
  /** XPUB socket: every document of the instrument, for `hutch listen`, Python and remote consumers. */
  publish: Address.default("tcp://127.0.0.1:5552"),
  /** XSUB socket: components in other processes publish their documents here. */
  collect: Address.default("tcp://127.0.0.1:5553"),
  /** Run catalog, run numbers and run files (relative to the instrument file). */
  dataDir: z.string().default("var/data"),
  heartbeatMs: z.number().int().min(50).max(10_000).default(300),
  lostAfterMs: z.number().int().min(100).max(60_000).default(1500),
  hookTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
  /** What a lost or failed component does to a running run. */
  onComponentFault: z.enum(["error", "pause"]).default("error"),
});

/** One component: a name, a registered type, where it runs, and its params (validated by its type's schema). */
export const ComponentSection = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.', '-' only"),
  type: z.string(),
  /** `inproc` (default): inside `hutch up`'s process; `own`: `hutch up` starts it as its own process. */
  process: z.enum(["inproc", "own"]).default("inproc"),
  params: z.record(z.string(), z.unknown()).default({}),
});

/** The web dashboard (served by `hutch up`). */
export const ServerSection = z.strictObject({
  enabled: z.boolean().default(true),
  host: z.string().default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(8080),
  /** Required for control when bound off loopback. */
  token: z.string().optional(),
  /** Also require the token to view when bound off loopback. */
  viewerToken: z.boolean().default(false),
  /** Monitor updates per second per panel sent to each browser. */
  maxUpdateHz: z.number().positive().max(60).default(10),
});

/** The whole instrument file. */
export const InstrumentFile = z.strictObject({
  instrument: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.', '-' only"),
  description: z.string().optional(),
  core: CoreSection.default(CoreSection.parse({})),
  server: ServerSection.default(ServerSection.parse({})),
  components: z.array(ComponentSection).min(1, "an instrument needs at least one component"),
  watchdogs: z
    .array(
      z.strictObject({
        stream: z.string(),
        noDataMs: z.number().int().positive(),
        action: z.enum(["pause", "abort", "error"]).default("abort"),
      }),
    )
    .default([]),
  /** Dashboard panels (see docs/dashboard.md). */
  panels: PanelsSection,
  /** Default run configuration (plan name and per-component overrides) used by prepare. */
  run: z.record(z.string(), z.unknown()).default({}),
});
export type InstrumentConfig = z.infer<typeof InstrumentFile> & {
  readonly file: string;
  readonly raw: Record<string, unknown>;
};

const pathOf = (p: readonly PropertyKey[]): string =>
  p.reduce<string>(
    (s, k) => (typeof k === "number" ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)),
    "",
  );

const at = (obj: unknown, p: readonly PropertyKey[]): unknown =>
  p.reduce<unknown>(
    (o, k) => (o && typeof o === "object" ? (o as Record<PropertyKey, unknown>)[k] : undefined),
    obj,
  );

/** Formats a zod error: `file: path: message (got value)`, one line per issue (at most 10). */
export function formatIssues(
  file: string,
  err: z.ZodError,
  root: unknown,
  prefix: readonly PropertyKey[] = [],
): string {
  return err.issues
    .slice(0, 10)
    .map((i) => {
      const full = [...prefix, ...i.path];
      const got = at(root, full);
      const shown = got === undefined ? "" : ` (got ${JSON.stringify(got)?.slice(0, 60)})`;
      return `${file}: ${pathOf(full) || "(top level)"}: ${i.message}${i.code === "invalid_type" || i.code === "custom" || i.code === "too_small" || i.code === "too_big" || i.code === "invalid_format" || i.code === "invalid_value" ? shown : ""}`;
    })
    .join("\n");
}

/**
 * Reads and validates an instrument file, including every component's params against its type's schema.
 * Throws HUTCH_ERR_CONFIG with one line per problem naming the field path, the value and what is expected.
 * @example const cfg = loadInstrument("examples/demo.yaml", types);
 */
export function loadInstrument(
  file: string,
  types: ReadonlyMap<string, ComponentDef<unknown>>,
): InstrumentConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new HutchError(
      ErrorCode.Config,
      `${file}: cannot read the instrument file (${(cause as Error).message})`,
      { cause },
    );
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (cause) {
    const where = cause instanceof YAMLParseError && cause.linePos ? `line ${cause.linePos[0].line}: ` : "";
    throw new HutchError(
      ErrorCode.Config,
      `${file}: ${where}not valid YAML: ${(cause as Error).message.split("\n")[0]!.replace(/:$/, "")}`,
      { cause },
    );
  }
  const parsed = InstrumentFile.safeParse(raw);
  if (!parsed.success)
    throw new HutchError(ErrorCode.Config, formatIssues(file, parsed.error, raw), { cause: parsed.error });
  const cfg = parsed.data;
  const problems: string[] = [];
  const names = new Set<string>();
  cfg.components.forEach((c, i) => {
    if (names.has(c.name)) problems.push(`${file}: components[${i}].name: '${c.name}' is used twice`);
    names.add(c.name);
    const def = types.get(c.type);
    if (!def) {
      problems.push(
        `${file}: components[${i}].type: unknown component type '${c.type}'; known: ${[...types.keys()].sort().join(", ")}`,
      );
      return;
    }
    const p = def.params.safeParse(c.params);
    if (!p.success) problems.push(formatIssues(file, p.error, raw, ["components", i, "params"]));
  });
  if (problems.length) throw new HutchError(ErrorCode.Config, problems.join("\n"));
  const base = dirname(resolve(file));
  const dataDir = isAbsolute(cfg.core.dataDir) ? cfg.core.dataDir : resolve(base, cfg.core.dataDir);
  return { ...cfg, core: { ...cfg.core, dataDir }, file: resolve(file), raw: raw as Record<string, unknown> };
}
