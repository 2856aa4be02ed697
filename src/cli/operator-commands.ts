// The operator commands of `hutch`: run control, status, components, logs, listen, runs.
import type { Command as Cli } from "commander";
import {
  COMMANDS,
  LOG_LEVELS,
  ErrorCode,
  HutchError,
  isHutchError,
  type Command,
  type LogLevel,
} from "../core/index.js";
import { ZmqSubscriber } from "../transport/index.js";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { RunCatalog, connect, resultOf, type CatalogEntry, type OperatorClient } from "../control/index.js";
import { counts, docToJson, duration, table, when } from "./format.js";

/** Where the core is: its control address (operator calls) and publish address (documents). */
export interface CoreAddresses {
  readonly control: string;
  readonly publish: string;
  readonly instrument?: string;
  /** The instrument's data directory (from the file), where the run catalog can be read without a core. */
  readonly dataDir?: string;
}

/** The catalog from the core, or straight from `<dataDir>/catalog.json` when no core answers. */
async function catalogOf(addr: CoreAddresses): Promise<CatalogEntry[]> {
  try {
    return await withClient(addr, (cl) => cl.runs());
  } catch (err) {
    if (
      addr.dataDir &&
      isHutchError(err, ErrorCode.Timeout) &&
      existsSync(join(addr.dataDir, "catalog.json"))
    ) {
      console.error(`(no core at ${addr.control}; reading ${join(addr.dataDir, "catalog.json")})`);
      return new RunCatalog(addr.dataDir).list();
    }
    throw err;
  }
}

/** Resolves addresses from the common options (`-c FILE`, `--core URL`, `--bus URL`). */
export type AddressResolver = (opts: { config?: string; core?: string; bus?: string }) => CoreAddresses;

const withClient = async <T>(addr: CoreAddresses, fn: (c: OperatorClient) => Promise<T>): Promise<T> => {
  const c = connect(addr.control);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
};

const addressOptions = (cmd: Cli): Cli =>
  cmd
    .option("-c, --config <file>", "instrument file (gives the core's addresses)")
    .option("--core <url>", "control address of the core (default tcp://127.0.0.1:5551)")
    .option("--bus <url>", "document address of the core (default tcp://127.0.0.1:5552)");

/** Adds the operator commands to a commander program. */
export function addOperatorCommands(program: Cli, resolve: AddressResolver): void {
  const run = program
    .command("run")
    .description("run control: prepare|start|stop|pause|resume|abort|reset|status");
  for (const c of COMMANDS) {
    addressOptions(
      run
        .command(c)
        .description(
          {
            prepare: "configure (arm) every component; --set comp.key=value overrides, --plan NAME",
            start: "start a run (prepares first when in STOP)",
            pause: "pause the run",
            resume: "resume a paused run",
            stop: "end the run (exit status success)",
            abort: "end the run (exit status abort)",
            reset: "leave ERROR (drops lost components)",
          }[c],
        )
        .option("--reason <text>", "reason recorded in the run-stop document / log")
        .option("--set <comp.key=value...>", "per-component override (prepare)")
        .option("--plan <name>", "plan name recorded in run-start (prepare)")
        .option("--timeout <ms>", "give up after this long", (v) => Number(v))
        .option("--json", "print the result as JSON"),
    ).action(async (o) => {
      const addr = resolve(o);
      const params: Record<string, unknown> = {};
      if (o.reason) params.reason = o.reason;
      if (o.plan) params.plan = o.plan;
      if (o.set) params.components = parseSets(o.set as string[]);
      const data = await withClient(addr, (cl) =>
        resultOf(cl.command(c as Command, params, o.timeout ? { timeoutMs: o.timeout } : {}), (p) => {
          if (p.type === "progress" && !o.json) console.log(`  ${p.message}`);
        }),
      );
      if (o.json) console.log(JSON.stringify(data));
      else console.log(summary(c, data as Record<string, unknown>));
    });
  }
  addressOptions(
    run.command("status").description("state, current run, components").option("--json", "JSON output"),
  ).action(async (o) => {
    const s = await withClient(resolve(o), (cl) => cl.status());
    if (o.json) return console.log(JSON.stringify(s, null, 1));
    console.log(`${s.instrument}: ${s.state}${s.reason ? ` (${s.reason})` : ""}`);
    if (s.run)
      console.log(
        `run ${s.run.number}, running for ${duration(Date.now() / 1000 - s.run.startedAt)}; events: ${counts(s.run.counts)}`,
      );
    else if (s.lastRun !== undefined) console.log(`last run: ${s.lastRun}`);
    console.log(`allowed: ${s.allowed.join(", ")}`);
  });

  addressOptions(
    program
      .command("components")
      .description("registered components: state, heartbeat, counters")
      .option("--json", "JSON output"),
  ).action(async (o) => {
    const s = await withClient(resolve(o), (cl) => cl.status());
    if (o.json) return console.log(JSON.stringify(s.components, null, 1));
    console.log(
      table(
        ["name", "type", "state", "heartbeat", "where", "counters / error"],
        s.components.map((c) => [
          c.name,
          c.type,
          c.lost ? "LOST" : c.state,
          `${c.heartbeatAgeMs} ms`,
          c.placement,
          clip(c.lastError ?? counts(c.counters), 100),
        ]),
      ),
    );
  });

  addressOptions(
    program
      .command("logs")
      .description("log lines of the instrument")
      .option("-f, --follow", "keep printing new lines")
      .option("-n, --lines <n>", "how many past lines", (v) => Number(v), 50)
      .option("--level <level>", `lowest level shown (${LOG_LEVELS.join(", ")})`, "info")
      .option("--json", "JSON lines"),
  ).action(async (o) => {
    const addr = resolve(o);
    const min = LOG_LEVELS.indexOf(o.level as LogLevel);
    if (min < 0)
      throw new HutchError(
        ErrorCode.Validation,
        `--level: expected one of ${LOG_LEVELS.join(", ")}, got '${o.level}'`,
      );
    const show = (l: { time: number; level: LogLevel; component: string; message: string }) => {
      if (LOG_LEVELS.indexOf(l.level) < min) return;
      console.log(
        o.json
          ? JSON.stringify(l)
          : `${when(l.time)} ${l.level.toUpperCase().padEnd(5)} ${l.component}: ${l.message}`,
      );
    };
    const sub = o.follow
      ? await ZmqSubscriber.open({
          address: addr.publish,
          prefix: addr.instrument ? `${addr.instrument}/` : "",
        })
      : undefined;
    const past = await withClient(addr, (cl) => cl.logs({ last: o.lines }));
    past.forEach(show);
    if (!sub) return;
    const stop = () => sub.close();
    process.once("SIGINT", stop);
    for await (const { doc } of sub) if (doc.kind === "log") show(doc);
  });

  addressOptions(
    program
      .command("listen")
      .description("print the instrument's documents as JSON lines")
      .argument("[prefix]", "topic prefix, e.g. demo/ or demo/waveforms/", "")
      .option("--count <n>", "exit after n documents", (v) => Number(v))
      .option("--full", "print arrays in full (default: first 16 values)"),
  ).action(async (prefix: string, o) => {
    const addr = resolve(o);
    const sub = await ZmqSubscriber.open({ address: addr.publish, prefix });
    const stop = () => sub.close();
    process.once("SIGINT", stop);
    let n = 0;
    for await (const { topic, doc } of sub) {
      process.stdout.write(
        `${JSON.stringify({ topic, ...(docToJson(doc, o.full ? Infinity : 16) as object) })}\n`,
      );
      if (o.count && ++n >= o.count) break;
    }
    sub.close();
  });

  addressOptions(
    program
      .command("call")
      .description(
        "call a component's action: hutch call sim fail-detector name=mpccd2 (progress streams, then the result)",
      )
      .argument("<component>", "component name")
      .argument("<action>", "action name (hutch components --json lists them)")
      .argument("[params...]", "key=value pairs (values parsed as JSON when they can be)")
      .option("--params <json>", "params as one JSON object")
      .option("--timeout <ms>", "give up after this long", (v) => Number(v))
      .option("--json", "print the result as JSON"),
  ).action(async (component: string, action: string, pairs: string[], o) => {
    let params: Record<string, unknown> = {};
    if (o.params) {
      try {
        params = JSON.parse(o.params as string) as Record<string, unknown>;
      } catch {
        throw new HutchError(ErrorCode.Validation, `--params: not valid JSON: ${o.params}`);
      }
    }
    for (const kv of pairs) {
      const m = /^([^=]+)=(.*)$/.exec(kv);
      if (!m) throw new HutchError(ErrorCode.Validation, `'${kv}': expected key=value`);
      params[m[1]!] = parseValue(m[2]!);
    }
    const data = await withClient(resolve(o), (cl) =>
      resultOf(cl.call(component, action, params, o.timeout ? { timeoutMs: o.timeout } : {}), (p) => {
        if (p.type === "progress" && !o.json)
          console.log(`  ${p.message}${p.data === undefined ? "" : ` ${JSON.stringify(p.data)}`}`);
      }),
    );
    console.log(o.json ? JSON.stringify(data) : JSON.stringify(data, null, 1));
  });

  const runs = addressOptions(
    program.command("runs").description("the run catalog").option("--json", "JSON output"),
  );
  runs.action(async (o) => {
    const list = await catalogOf(resolve(o));
    if (o.json) return console.log(JSON.stringify(list, null, 1));
    console.log(
      table(
        ["run", "start", "duration", "status", "events", "reason"],
        list.map((r) => [
          String(r.run),
          when(r.startTime),
          r.stopTime ? duration(r.stopTime - r.startTime) : "running",
          r.exitStatus ?? "-",
          counts(r.counts),
          r.reason ?? "",
        ]),
      ),
    );
  });
  addressOptions(runs.command("show").argument("<run>", "run number").option("--json", "JSON output")).action(
    async (n: string, o) => {
      const list = await catalogOf(resolve({ ...runs.opts(), ...o }));
      const r = list.find((x) => x.run === Number(n));
      if (!r)
        throw new HutchError(
          ErrorCode.Validation,
          `no run ${n} in the catalog (runs: ${list.map((x) => x.run).join(", ") || "none"})`,
        );
      if (o.json) return console.log(JSON.stringify(r, null, 1));
      console.log(`run ${r.run} (${r.uid}) ${r.instrument}, plan ${r.plan}`);
      console.log(
        `  started ${when(r.startTime)}, stopped ${when(r.stopTime)}, ${r.exitStatus ?? "running"}${r.reason ? `: ${r.reason}` : ""}`,
      );
      console.log(`  events: ${counts(r.counts)}`);
      for (const f of r.files) console.log(`  file ${f.path} ${f.bytes} bytes sha256 ${f.sha256}`);
    },
  );
}

/** `--set cam.rateHz=10` -> `{ cam: { rateHz: 10 } }` (values parsed as JSON when they can be). */
export function parseSets(sets: string[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of sets) {
    const m = /^([^.=]+)\.([^=]+)=(.*)$/.exec(s);
    if (!m) throw new HutchError(ErrorCode.Validation, `--set '${s}': expected component.key=value`);
    let v: unknown = m[3];
    try {
      v = JSON.parse(m[3]!);
    } catch {
      /* a plain string */
    }
    (out[m[1]!] ??= {})[m[2]!] = v;
  }
  return out;
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** A command-line value: JSON when it parses (numbers, booleans, arrays), else the plain string. */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function summary(command: string, d: Record<string, unknown> | undefined): string {
  if (!d) return `${command}: done`;
  if (command === "start") return `run ${d.run} started (state ${d.state})`;
  if ((command === "stop" || command === "abort") && d.run !== undefined) {
    return `run ${d.run} ended: ${d.exitStatus} (${d.reason}); events: ${counts((d.counts ?? {}) as Record<string, number>)}`;
  }
  return `${command}: state ${d.state}`;
}
