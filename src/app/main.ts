// The `hutch` command: assembles the CLI (operator commands + up/node/demo/schema) and runs it.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { parse } from "yaml";
import { ErrorCode, HUTCH_VERSION, isHutchError, toHutchError } from "../core/index.js";
import { addOperatorCommands } from "../cli/index.js";
import { loadInstrument } from "./config.js";
import { componentTypes } from "./component-types.js";
import { startInstrument, startNode } from "./instance.js";
import { writeSchemas } from "./schema-export.js";
import { COMMAND_MODULES } from "./commands/index.js";
import { addresses, untilSignal } from "./cli-support.js";

const DEMO = fileURLToPath(new URL("../../examples/demo.yaml", import.meta.url));

async function up(file: string, o: { quiet?: boolean; run?: boolean }): Promise<void> {
  const cfg = loadInstrument(file, componentTypes());
  const inst = await startInstrument(cfg, o.quiet ? { quiet: true } : {});
  console.log(
    `hutch ${HUTCH_VERSION}: instrument '${cfg.instrument}' is up (${cfg.components.length} components)`,
  );
  console.log(
    `  control    ${cfg.core.control}   (npx hutch run start | stop | status, npx hutch components)`,
  );
  console.log(
    `  documents  ${cfg.core.publish}   (npx hutch listen ${cfg.instrument}/, examples/python/listen.py)`,
  );
  console.log(`  data       ${cfg.core.dataDir}`);
  if (inst.dashboardUrl) console.log(`  dashboard  ${inst.dashboardUrl}`);
  console.log("  Ctrl-C stops everything cleanly.");
  if (o.run) {
    for await (const p of inst.core.command("start"))
      if (p.type === "error") console.error(`hutch: start failed: ${p.message}`);
  }
  await untilSignal(() => inst.close());
}

/** Builds the program (exported for tests). */
export function program(): Command {
  const p = new Command("hutch")
    .description("Hutch: data acquisition and online monitoring for physics experiments")
    .version(HUTCH_VERSION)
    .showHelpAfterError();
  p.command("up")
    .description("run an instrument file: the core and every component it names")
    .argument("<file>", "instrument file (YAML)")
    .option("-q, --quiet", "only warnings and errors on stderr")
    .option("--run", "start a run at once")
    .action((file: string, o) => up(file, o));
  p.command("demo")
    .description("run the demo instrument (examples/demo.yaml) on simulators")
    .option("-q, --quiet", "only warnings and errors on stderr")
    .option("--run", "start a run at once")
    .action((o) => up(DEMO, o));
  p.command("node")
    .description(
      "run some components of an instrument file in this process; they find the core from the file",
    )
    .argument("<file>", "instrument file (YAML)")
    .requiredOption("--only <names...>", "component names")
    .action(async (file: string, o: { only: string[] }) => {
      const cfg = loadInstrument(file, componentTypes());
      const node = await startNode(cfg, o.only);
      const parent = Number(process.env.HUTCH_PARENT);
      if (parent) {
        // A child of `hutch up` ends with its parent, even when the parent was killed.
        const t = setInterval(() => {
          try {
            process.kill(parent, 0);
          } catch {
            void node.close().finally(() => process.exit(0));
          }
        }, 500);
        t.unref();
      }
      await untilSignal(() => node.close());
    });
  p.command("check")
    .description("validate an instrument file and print what it would start")
    .argument("<file>", "instrument file (YAML)")
    .action((file: string) => {
      const cfg = loadInstrument(file, componentTypes());
      console.log(
        `${file}: OK: instrument '${cfg.instrument}', components: ${cfg.components.map((c) => `${c.name} (${c.type}${c.process === "own" ? ", own process" : ""})`).join(", ")}`,
      );
    });
  p.command("schema")
    .description("write JSON Schema of every document kind and of the instrument file")
    .argument("[dir]", "output directory", "docs/schema")
    .action((dir: string) => {
      for (const f of writeSchemas(dir)) console.log(f);
    });
  addOperatorCommands(p, addresses);
  for (const register of COMMAND_MODULES) register(p);
  return p;
}

/** Entry point: parses argv, prints errors as one clear line (code in brackets), exit 1 (2 for config errors). */
export async function run(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (err) {
    const e = toHutchError(err);
    console.error(`hutch: ${e.message}${isHutchError(err) ? ` [${e.code}]` : ""}`);
    process.exitCode = e.code === ErrorCode.Config ? 2 : 1;
  }
}

/** For tools that only need an instrument's name from a file without validating it. */
export function peekInstrument(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const raw = parse(readFileSync(file, "utf8")) as { instrument?: string } | null;
  return raw?.instrument;
}
