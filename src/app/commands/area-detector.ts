// `hutch sim area-detector`, `hutch relay`, `hutch relay-agent`, `hutch transfer`: MEC area detectors on Hutch.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Command } from "commander";
import { parse } from "yaml";
import { ErrorCode, HutchError, makeLogger, type Logger } from "../../core/index.js";
import { connect, resultOf, type OperatorClient } from "../../control/index.js";
import {
  RelayAgent,
  RelayOptionsSchema,
  RelayServer,
  armToRun,
  runEnded,
  type RelayOptionsInput,
} from "../../relay/index.js";
import {
  AreaDetectorSimOptionsSchema,
  runAreaDetectorSim,
  type AreaDetectorSimInput,
} from "../../sim/index.js";
import type { TransferStatusRow } from "../../storage/index.js";
import { addresses, untilSignal } from "../cli-support.js";
import { componentTypes } from "../component-types.js";
import { formatIssues, loadInstrument } from "../config.js";
import { simGroup } from "./sim-target-c.js";

const num = (v: string) => Number(v);
const list = (v: string) => v.split(",").filter(Boolean).map(Number);
const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Log lines on stderr, one per line, with the time and a tag. */
function stderrLog(tag: string, quiet = false): Logger {
  return makeLogger((level, message) => {
    if (level === "debug" || (quiet && level === "info")) return;
    process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${tag}: ${message}\n`);
  });
}

/** A token from a file (first line) or the HUTCH_RELAY_TOKEN environment variable; never from the command line. */
function tokenFrom(file: string | undefined): string | undefined {
  if (file) return readFileSync(file, "utf8").split("\n")[0]!.trim();
  return process.env.HUTCH_RELAY_TOKEN || undefined;
}

/** Options of the detector-side agent. */
export interface DetectorAgentOptions {
  /** The instrument file: its core's control address and its area-detector components. */
  readonly file: string;
  /** `host:port` of the relay's detector side. */
  readonly relay: string;
  readonly name?: string;
  readonly token?: string;
  /** Control address override (default: the file's `core.control`). */
  readonly core?: string;
  readonly log: Logger;
}

/**
 * The detector side of the relay: dials the relay, turns each arm into prepare + start through the operator API
 * (so it works from another process or host), and tells the relay how each run ended.
 * @example const a = startDetectorAgent({ file: "examples/mec.yaml", relay: "psmeclogin:5678", log });
 */
export function startDetectorAgent(o: DetectorAgentOptions): { agent: RelayAgent; close(): Promise<void> } {
  const cfg = loadInstrument(o.file, componentTypes());
  const detectors = cfg.components.filter((c) => c.type === "area-detector").map((c) => c.name);
  if (!detectors.length) {
    throw new HutchError(ErrorCode.Config, `${o.file}: no component of type area-detector to arm`);
  }
  const api: OperatorClient = connect(o.core ?? addresses({ config: o.file }).control);
  const stop = new AbortController();
  const agent = RelayAgent.open({
    relay: o.relay,
    name: o.name ?? `${hostname()}/${cfg.instrument}`,
    ...(o.token ? { token: o.token } : {}),
    log: o.log,
    onArm: async (arm) => {
      const r = await armToRun(api, arm, { detectors, base: cfg.run });
      if (r.ok) {
        o.log.info(`arm ${arm.experiment}/${arm.run_name}: run ${r.run} started`);
        void runEnded(api, r.run, { signal: stop.signal }).then((end) => end && agent.notify(end));
      } else o.log.warn(`arm ${arm.experiment}/${arm.run_name} refused: ${r.reason}`);
      return r;
    },
  });
  return {
    agent,
    close: async () => {
      stop.abort();
      await agent.close();
      await api.close();
    },
  };
}

function registerSim(program: Command): void {
  simGroup(program)
    .command("area-detector")
    .description("a Varex-style area detector: UDP trigger input, frames over TCP, idle free-run after 20 s")
    .option("--listen <host:port>", "frame server the area-detector source connects to", "127.0.0.1:5700")
    .option("--trigger-listen <host:port>", "UDP trigger input", "127.0.0.1:5701")
    .option("--width <px>", "frame width (Varex 4343: 2880)", num, 2880)
    .option("--height <px>", "frame height", num, 2880)
    .option("--readout-ms <ms>", "readout time (triggers during it are missed)", num, 66.7)
    .option("--idle-after <s>", "free-run (marked) after this long without a trigger", num, 20)
    .option("--idle-rate <hz>", "free-run frame rate", num, 15)
    .option("--trigger-hz <hz>", "also run a trigger generator at this rate", num)
    .option("--shot-every <n>", "with --trigger-hz: every Nth trigger has beam", num)
    .option("--seed <n>", "random seed", num, 1)
    .option("--drop-triggers <list>", "fault: the driver loses the frames of these trigger numbers", list)
    .option("--disconnect-after <frames>", "fault: drop the link after this many frames", num)
    .action(async (o) => {
      const input: AreaDetectorSimInput = {
        listen: o.listen,
        triggerListen: o.triggerListen,
        width: o.width,
        height: o.height,
        readoutMs: o.readoutMs,
        idleAfterMs: o.idleAfter * 1000,
        idleRateHz: o.idleRate,
        seed: o.seed,
        faults: {
          dropTriggers: o.dropTriggers ?? [],
          delayFrames: [],
          ...(o.disconnectAfter ? { disconnectAfterFrames: o.disconnectAfter } : {}),
        },
      };
      const parsed = AreaDetectorSimOptionsSchema.safeParse(input);
      if (!parsed.success) {
        throw new HutchError(ErrorCode.Config, formatIssues("sim area-detector", parsed.error, input));
      }
      const ac = new AbortController();
      process.once("SIGINT", () => ac.abort());
      process.once("SIGTERM", () => ac.abort());
      const stats = await runAreaDetectorSim(
        input,
        o.triggerHz ? { rateHz: o.triggerHz, ...(o.shotEvery ? { shotEvery: o.shotEvery } : {}) } : undefined,
        {
          signal: ac.signal,
          ready: (a) =>
            console.error(
              `sim area-detector: ${input.width} x ${input.height}, frames on ${a.frames}, triggers on ${a.triggers}${o.triggerHz ? ` (generator at ${o.triggerHz} Hz)` : ""} (Ctrl-C stops)`,
            ),
          reportMs: 5000,
          report: (s, sent) =>
            console.error(
              `sim area-detector: ${sent} triggers sent, ${s.frames_triggered} triggered + ${s.frames_free_run} free-run frames, ${s.frames_sent} sent, ${s.triggers_missed} triggers missed`,
            ),
        },
      );
      console.log(JSON.stringify(stats));
    });
}

/**
 * Forwards that carry an instrument's traffic across the relay, same port numbers on both sides: its core's control
 * and publish sockets and, when enabled, the dashboard.
 */
export function instrumentForwards(
  file: string,
  targetHost: string,
  listenHost: string,
): { name: string; listen: string; target: string }[] {
  const cfg = loadInstrument(file, componentTypes());
  const port = (addr: string) => /:(\d+)$/.exec(addr)?.[1] ?? "";
  const f = (name: string, p: string | number) => ({
    name,
    listen: `${listenHost}:${p}`,
    target: `${targetHost}:${p}`,
  });
  return [
    f("control", port(cfg.core.control)),
    f("publish", port(cfg.core.publish)),
    ...(cfg.server.enabled ? [f("dashboard", cfg.server.port)] : []),
  ];
}

function relayOptions(o: {
  file?: string;
  instrument?: string;
  targetHost?: string;
  forwardHost?: string;
  daq?: string;
  detector?: string;
  tokenFile?: string;
  forward?: string[];
  armTimeoutMs?: number;
}): RelayOptionsInput {
  const fromFile = o.file ? ((parse(readFileSync(o.file, "utf8")) ?? {}) as Record<string, unknown>) : {};
  const token = tokenFrom(o.tokenFile);
  if (o.instrument && !o.targetHost) {
    throw new HutchError(ErrorCode.Config, "--instrument needs --target-host (the detector host's address)");
  }
  const derived = o.instrument
    ? instrumentForwards(o.instrument, o.targetHost!, o.forwardHost ?? "0.0.0.0")
    : [];
  const forwards = [
    ...derived,
    ...(o.forward ?? []).map((f) => {
      const m = /^([\w.-]+)=([^=]+:\d+)=([^=]+:\d+)$/.exec(f);
      if (!m)
        throw new HutchError(
          ErrorCode.Config,
          `--forward: expected NAME=LISTEN_HOST:PORT=TARGET_HOST:PORT, got '${f}'`,
        );
      return { name: m[1]!, listen: m[2]!, target: m[3]! };
    }),
  ];
  const input = {
    ...fromFile,
    ...(o.daq ? { daq: o.daq } : {}),
    ...(o.detector ? { detector: o.detector } : {}),
    ...(token ? { token } : {}),
    ...(forwards.length ? { forwards } : {}),
    ...(o.armTimeoutMs ? { armTimeoutMs: o.armTimeoutMs } : {}),
  };
  const parsed = RelayOptionsSchema.safeParse(input);
  if (!parsed.success)
    throw new HutchError(ErrorCode.Config, formatIssues(o.file ?? "relay", parsed.error, input));
  return input as RelayOptionsInput;
}

function registerRelay(program: Command): void {
  program
    .command("relay")
    .description("relay between the DAQ network and the detector network (MEC's psmeclogin): arms, forwards")
    .option("--file <relay.yaml>", "relay settings (daq, detector, forwards, timeouts); flags override")
    .option("--daq <host:port>", "where the DAQ connects (default 0.0.0.0:8089)")
    .option("--detector <host:port>", "where the detector host's agent connects (default 0.0.0.0:5678)")
    .option("--token-file <file>", "shared token (or HUTCH_RELAY_TOKEN)")
    .option(
      "--forward <name=listen=target>",
      "carry a TCP port across, e.g. bus=0.0.0.0:5552=10.0.0.5:5552",
      collect,
    )
    .option("--arm-timeout-ms <ms>", "how long an arm may take on the detector side", num)
    .option("-q, --quiet", "warnings and errors only")
    .action(async (o) => {
      const log = stderrLog("relay", o.quiet);
      const relay = await RelayServer.open(relayOptions(o), log);
      console.error(
        `relay: DAQ on ${relay.daqAddress}, detector side on ${relay.detectorAddress}${relay.forwards.map((f) => `, ${f.name} on ${f.address}`).join("")} (Ctrl-C stops)`,
      );
      const t = setInterval(() => log.debug(JSON.stringify(relay.metrics())), 10_000);
      t.unref();
      await untilSignal(async () => {
        clearInterval(t);
        await relay.close();
        console.log(JSON.stringify(relay.metrics()));
      });
    });
  program
    .command("relay-agent")
    .description("on the detector host: take the relay's arm messages to this instrument's run control")
    .argument("<file>", "instrument file (its area-detector components are armed)")
    .requiredOption("--relay <host:port>", "the relay's detector side, e.g. psmeclogin:5678")
    .option("--name <name>", "name shown by the relay (default host/instrument)")
    .option("--token-file <file>", "shared token (or HUTCH_RELAY_TOKEN)")
    .option("--core <url>", "control address of the core (default: the file's core.control)")
    .action(async (file: string, o) => {
      const token = tokenFrom(o.tokenFile);
      const a = startDetectorAgent({
        file,
        relay: o.relay,
        log: stderrLog("relay-agent"),
        ...(o.name ? { name: o.name } : {}),
        ...(token ? { token } : {}),
        ...(o.core ? { core: o.core } : {}),
      });
      await untilSignal(() => a.close());
    });
}

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

/** A text progress bar: `[#########-----------]  45%`. */
export function progressBar(done: number, total: number, width = 20): string {
  const f = total > 0 ? Math.min(1, done / total) : 1;
  const n = Math.round(f * width);
  return `[${"#".repeat(n)}${"-".repeat(width - n)}] ${String(Math.round(f * 100)).padStart(3)}%`;
}

function registerTransfer(program: Command): void {
  const t = program
    .command("transfer")
    .description("copies of run files to remote storage: status, retry, enqueue");
  const common = (c: Command) =>
    c
      .option("-c, --config <file>", "instrument file (gives the core's address)")
      .option("--core <url>", "control address of the core")
      .option("--component <name>", "the transfer component", "transfer");
  const call = async (
    o: { config?: string; core?: string; component: string },
    action: string,
    params: object,
  ) => {
    const api = connect(addresses(o).control);
    try {
      return await resultOf(api.call(o.component, action, params));
    } finally {
      await api.close();
    }
  };
  common(t.command("status").description("one line per file with a progress bar"))
    .option("--last <n>", "rows", num, 30)
    .option("--watch", "redraw every second until nothing is pending")
    .option("--json", "print the raw answer")
    .action(async (o) => {
      for (;;) {
        const s = (await call(o, "status", { last: o.last })) as {
          target: string;
          counts: Record<string, number>;
          transfers: TransferStatusRow[];
        };
        if (o.json) return void console.log(JSON.stringify(s, null, 2));
        const lines = [
          `${s.target}: ${Object.entries(s.counts)
            .map(([k, v]) => `${v} ${k}`)
            .join(", ")}`,
          ...s.transfers.map(
            (r) =>
              `${r.id}  run ${String(r.run).padStart(5)}  ${r.state.padEnd(7)} ${progressBar(r.done, r.bytes)} ${mb(r.bytes).padStart(9)}  ${r.local}${r.error && r.state !== "done" ? `  (${r.error})` : ""}`,
          ),
        ];
        if (o.watch && process.stdout.isTTY) process.stdout.write("\x1b[2J\x1b[H");
        console.log(lines.join("\n"));
        if (!o.watch || (s.counts.pending ?? 0) + (s.counts.active ?? 0) === 0) return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    });
  common(
    t.command("retry").description("failed transfers start again").argument("[ids...]", "only these"),
  ).action(async (ids: string[], o) => {
    const r = (await call(o, "retry", ids.length ? { ids } : {})) as { retried: number };
    console.log(`${r.retried} transfer(s) queued again`);
  });
  common(t.command("enqueue").description("queue a past run's files (or given paths)"))
    .option("--run <n>", "run number", num)
    .option("--path <file>", "a file (repeatable)", collect)
    .action(async (o) => {
      const r = (await call(o, "enqueue", {
        ...(o.run !== undefined ? { run: o.run } : {}),
        ...(o.path ? { paths: o.path } : {}),
      })) as {
        queued: { id: string; local: string; remote: string }[];
      };
      for (const q of r.queued) console.log(`${q.id}  ${q.local} -> ${q.remote}`);
    });
}

/** Registers the area-detector, relay and transfer commands. */
export function registerAreaDetectorCommands(program: Command): void {
  registerSim(program);
  registerRelay(program);
  registerTransfer(program);
}
