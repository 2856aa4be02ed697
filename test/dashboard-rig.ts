// Test rig for the dashboard: a core, the demo components in-process and the dashboard server, no ZeroMQ.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ComponentHost,
  inprocLinkPair,
  type ComponentDef,
  type ComponentToCore,
  type CoreToComponent,
} from "../src/component/index.js";
import { RunControl } from "../src/control/index.js";
import { buildServer, type DashboardServer, type ServerSettings } from "../src/server/index.js";
import { demoCamera, demoSource } from "../src/sim/index.js";
import { InprocBus } from "../src/transport/index.js";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { until } from "./helpers/instrument.js";

/** A component of the rig: a definition and its params. */
export interface RigComponent {
  readonly name: string;
  readonly def: ComponentDef<never>;
  readonly params: Record<string, unknown>;
}

/** The running rig. */
export interface Rig {
  readonly bus: InprocBus;
  readonly core: RunControl;
  readonly dash: DashboardServer;
  close(): Promise<void>;
}

/** The demo components at rates that keep tests quick. */
export const DEMO_COMPONENTS: RigComponent[] = [
  {
    name: "digitiser",
    def: demoSource as ComponentDef<never>,
    params: { rateHz: 400, pageSize: 20, samples: 64 },
  },
  { name: "camera", def: demoCamera as ComponentDef<never>, params: { rateHz: 10, width: 64, height: 48 } },
];

/** Starts a core with `components` in-process and a dashboard (not listening) on its bus. */
export async function startRig(opts: {
  panels?: unknown;
  server?: Partial<ServerSettings>;
  components?: RigComponent[];
}): Promise<Rig> {
  const instrument = "demo";
  const dir = mkdtempSync(join(tmpdir(), "hutch-dash-"));
  const bus = new InprocBus(instrument);
  const comps = opts.components ?? DEMO_COMPONENTS;
  const core = new RunControl({
    instrument,
    bus,
    dataDir: dir,
    config: { instrument },
    expected: comps.map((c) => c.name),
    defaultRun: { plan: "demo" },
    hookTimeoutMs: 5000,
  });
  const hosts: ComponentHost[] = [];
  for (const c of comps) {
    const [coreEnd, compEnd] = inprocLinkPair<CoreToComponent, ComponentToCore>();
    core.attach(coreEnd);
    hosts.push(
      await ComponentHost.create({
        name: c.name,
        def: c.def as ComponentDef<unknown>,
        params: c.params,
        instrument,
        bus,
        dataDir: dir,
        link: compEnd,
        heartbeatMs: 100,
      }),
    );
  }
  await until(async () => (await core.status()).components.length === comps.length, "registration");
  const dash = await buildServer({
    core,
    bus,
    instrument,
    description: "test rig",
    server: { port: 0, ...opts.server },
    panels: opts.panels,
    components: comps.map((c) => ({
      name: c.name,
      type: c.def.type,
      params: c.params,
      schema: c.def.params,
    })),
  });
  return {
    bus,
    core,
    dash,
    close: async () => {
      await dash.close();
      await core.close();
      for (const h of hosts) await h.close();
      bus.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The chromium flags every browser test uses (Debian's chromium, never a downloaded browser). */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Debian chromium with a fresh profile directory; `close()` removes it. */
export async function openBrowser(viewport = { width: 1600, height: 1000 }): Promise<{
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}> {
  const profile = mkdtempSync(join(tmpdir(), "hutch-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
