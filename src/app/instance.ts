// Runs an instrument file: the core (run control, control socket, document broker) and its components.
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorCode, HutchError, makeLogger, toHutchError, type Logger } from "../core/index.js";
import { BusBroker, InprocBus, bridgeBus, type BusBridge } from "../transport/index.js";
import {
  ComponentHost,
  inprocLinkPair,
  zmqComponentLink,
  type ComponentToCore,
  type CoreToComponent,
  type Link,
} from "../component/index.js";
import { RunControl, serveControl } from "../control/index.js";
import type { ControlServer } from "../transport/index.js";
import { buildServer, type DashboardServer } from "../server/index.js";
import type { InstrumentConfig } from "./config.js";
import { componentTypes } from "./component-types.js";

/** A running instrument (core process). */
export interface Instance {
  readonly config: InstrumentConfig;
  readonly bus: InprocBus;
  readonly core: RunControl;
  readonly broker: BusBroker;
  /** Child processes of components placed in their own process, by name. */
  readonly children: ReadonlyMap<string, ChildProcess>;
  /** The dashboard's URL, when `server.enabled`. */
  readonly dashboardUrl: string | undefined;
  close(): Promise<void>;
}

const BIN = fileURLToPath(new URL("../../bin/hutch.js", import.meta.url));

/** Prints log documents of the core to stderr (info and above), one line each. */
export function consoleLogger(component: string, quiet = false): Logger {
  return makeLogger((level, message) => {
    if (quiet && level !== "error" && level !== "warn") return;
    if (level === "debug") return;
    process.stderr.write(
      `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${component}: ${message}\n`,
    );
  });
}

/**
 * Starts the core of an instrument and every component the file names: in-process ones directly, `process: own`
 * ones as child processes running `hutch node FILE --only NAME`.
 * @example const inst = await startInstrument(loadInstrument("examples/demo.yaml", componentTypes()));
 */
export async function startInstrument(
  config: InstrumentConfig,
  opts: { quiet?: boolean } = {},
): Promise<Instance> {
  mkdirSync(config.core.dataDir, { recursive: true });
  const bus = new InprocBus(config.instrument);
  const log = consoleLogger("core", opts.quiet);
  const core = new RunControl({
    instrument: config.instrument,
    bus,
    dataDir: config.core.dataDir,
    config: config.raw,
    lostAfterMs: config.core.lostAfterMs,
    hookTimeoutMs: config.core.hookTimeoutMs,
    onComponentFault: config.core.onComponentFault,
    watchdogs: config.watchdogs,
    expected: config.components.map((c) => c.name),
    defaultRun: config.run,
  });
  const printLogs = bus.tap(`${config.instrument}/`, ({ doc }) => {
    if (doc.kind === "log" && doc.component !== "core") {
      if (doc.level !== "debug" && (!opts.quiet || doc.level === "error" || doc.level === "warn")) {
        process.stderr.write(
          `${new Date(doc.time * 1000).toISOString()} ${doc.level.toUpperCase().padEnd(5)} ${doc.component}: ${doc.message}\n`,
        );
      }
    } else if (doc.kind === "log") log[doc.level](doc.message);
  });
  let control: ControlServer | undefined;
  let broker: BusBroker | undefined;
  let bridge: BusBridge | undefined;
  const hosts: ComponentHost[] = [];
  const children = new Map<string, ChildProcess>();
  let dashboard: DashboardServer | undefined;
  let dashboardUrl: string | undefined;
  try {
    control = await serveControl(config.core.control, core, (why) => log.warn(why));
    broker = await BusBroker.open({
      inAddress: config.core.collect,
      outAddress: config.core.publish,
      logger: log,
    });
    bridge = await bridgeBus(bus, { nodeId: `core-${randomUUID().slice(0, 8)}`, broker, logger: log });
    const types = componentTypes();
    for (const c of config.components) {
      if (c.process === "own") {
        const child = spawn(process.execPath, [BIN, "node", config.file, "--only", c.name], {
          stdio: ["ignore", "inherit", "inherit"],
          env: { ...process.env, HUTCH_PARENT: String(process.pid) },
        });
        child.on("exit", (code, signal) => {
          if (children.get(c.name) === child)
            log.warn(`component process '${c.name}' exited (${signal ?? `code ${code}`})`);
        });
        children.set(c.name, child);
        continue;
      }
      const [coreEnd, compEnd] = inprocLinkPair<CoreToComponent, ComponentToCore>();
      core.attach(coreEnd);
      hosts.push(await hostComponent(config, c, bus, compEnd));
    }
    if (config.server.enabled) {
      dashboard = await buildServer({
        core,
        bus,
        instrument: config.instrument,
        ...(config.description ? { description: config.description } : {}),
        server: config.server,
        panels: config.panels,
        components: config.components.map((c) => ({
          name: c.name,
          type: c.type,
          params: c.params,
          schema: types.get(c.type)?.params,
        })),
        warn: (m) => log.warn(m),
      });
      dashboardUrl = await dashboard.listen().catch((cause: unknown) => {
        throw new HutchError(
          ErrorCode.Io,
          `cannot serve the dashboard on ${config.server.host}:${config.server.port} (port in use? set server.port)`,
          { cause },
        );
      });
    }
  } catch (err) {
    await dashboard?.close();
    for (const h of hosts) await h.close().catch(() => undefined);
    for (const ch of children.values()) ch.kill("SIGTERM");
    await bridge?.close();
    await broker?.close();
    await control?.close();
    await core.close();
    throw toHutchError(err, ErrorCode.Config);
  }
  const b = broker;
  return {
    config,
    bus,
    core,
    broker: b,
    children,
    dashboardUrl,
    close: async () => {
      await dashboard?.close();
      await core.close();
      for (const h of hosts)
        await h.close().catch((e) => log.error(`closing a component: ${toHutchError(e).message}`));
      for (const [name, ch] of children) {
        children.delete(name);
        if (ch.exitCode === null) ch.kill("SIGTERM");
      }
      printLogs();
      await bridge?.close();
      await b.close();
      await control?.close();
      bus.close();
    },
  };
}

/** Hosts one component of the file on a bus, linked to its core. */
function hostComponent(
  config: InstrumentConfig,
  c: InstrumentConfig["components"][number],
  bus: InprocBus,
  link: Link<ComponentToCore, CoreToComponent>,
  placement?: string,
): Promise<ComponentHost> {
  return ComponentHost.create({
    name: c.name,
    def: componentTypes().get(c.type)!,
    params: c.params,
    instrument: config.instrument,
    bus,
    dataDir: config.core.dataDir,
    configDir: dirname(config.file),
    link,
    heartbeatMs: config.core.heartbeatMs,
    ...(placement ? { placement } : {}),
  });
}

/**
 * Runs a subset of an instrument's components in this process (another host, or a child of `hutch up`): they
 * register with the core at `core.control` and exchange documents through the core's broker.
 */
export async function startNode(
  config: InstrumentConfig,
  only: readonly string[],
): Promise<{ close(): Promise<void> }> {
  const unknown = only.filter((n) => !config.components.some((c) => c.name === n));
  if (unknown.length) {
    throw new HutchError(
      ErrorCode.Config,
      `${config.file}: no component named ${unknown.map((u) => `'${u}'`).join(", ")}; components: ${config.components.map((c) => c.name).join(", ")}`,
    );
  }
  const bus = new InprocBus(config.instrument);
  const nodeId = `node-${process.pid}-${randomUUID().slice(0, 8)}`;
  const log = consoleLogger(nodeId);
  const bridge = await bridgeBus(bus, {
    nodeId,
    publish: { address: config.core.collect, mode: "connect" },
    subscribe: { address: config.core.publish, prefix: `${config.instrument}/` },
    logger: log,
  });
  const hosts: ComponentHost[] = [];
  for (const c of config.components.filter((x) => only.includes(x.name))) {
    hosts.push(
      await hostComponent(config, c, bus, zmqComponentLink(config.core.control), `pid ${process.pid}`),
    );
  }
  return {
    close: async () => {
      for (const h of hosts) await h.close();
      await bridge.close();
      bus.close();
    },
  };
}
