// A PMT scan end to end: plan in the core, simulated DAQ, gain analysis as slurm jobs over ssh, grid, flag/archive.
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  mkdirSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ComponentHost,
  inprocLinkPair,
  type ComponentDef,
  type ComponentToCore,
  type CoreToComponent,
} from "../src/component/index.js";
import {
  RunControl,
  pmtScanComponent,
  registerCore,
  resultOf,
  scanLabels,
  PmtScanSettingsSchema,
  type ScanSummary,
  type PlanOutcome,
} from "../src/control/index.js";
import type { Document, Event } from "../src/core/index.js";
import { jobsComponent } from "../src/jobs/index.js";
import { resolvePanels, type PanelOf } from "../src/server/index.js";
import { ScanFeed } from "../src/server/feeds/scan-feed.js";
import { pmtSimComponent } from "../src/sim/index.js";
import { InprocBus } from "../src/transport/index.js";
import { startSlurm, type Slurm } from "./helpers/slurm.js";
import { startSshd, type Sshd } from "./helpers/sshd.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "bin", "hutch.js");
/** The analysis job runs the real `hutch pmt analyse` (compiled), as on a cluster with Hutch installed. */
const ANALYSE = [process.execPath, BIN, "pmt", "analyse"];

/** Recompiles src/ to dist/ (esbuild, as scripts/build.mjs does) when the compiled analysis is older than its source. */
async function ensureCompiled(): Promise<void> {
  const pairs = [
    "app/commands/pmt.ts",
    "analysis/pmt/pmt-point-analysis.ts",
    "analysis/pmt/pmt-point-file.ts",
    "core/fit-unbinned.ts",
  ];
  const stale = pairs.some((p) => {
    const js = join(ROOT, "dist", p.replace(/\.ts$/, ".js"));
    return !existsSync(js) || statSync(js).mtimeMs < statSync(join(ROOT, "src", p)).mtimeMs;
  });
  if (!stale) return;
  const { build } = await import("esbuild");
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? walk(join(d, e.name))
        : /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts")
          ? [join(d, e.name)]
          : [],
    );
  await build({
    entryPoints: walk(join(ROOT, "src")),
    outdir: join(ROOT, "dist"),
    outbase: join(ROOT, "src"),
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "inline",
    logLevel: "warning",
  });
}

interface Rig {
  readonly bus: InprocBus;
  readonly core: RunControl;
  readonly dataDir: string;
  readonly docs: Document[];
  call<T = unknown>(component: string, action: string, params?: unknown): Promise<T>;
  /** Waits for the running plan to end and returns its outcome. */
  finish(timeoutMs: number): Promise<PlanOutcome<ScanSummary>>;
  close(): Promise<void>;
}

async function startRig(params: { pmt: object; jobs: object; scan: object }): Promise<Rig> {
  const bus = new InprocBus("pmt");
  const dataDir = mkdtempSync(join(tmpdir(), "hutch-pmt-"));
  const core = new RunControl({
    instrument: "pmt",
    bus,
    dataDir,
    config: {},
    expected: ["pmt", "jobs", "scan"],
  });
  // The one line RunControl's constructor is asked to gain (see docs/pmt.md): the core is found from its bus.
  registerCore(bus, core);
  const docs: Document[] = [];
  const untap = bus.tap("pmt/", ({ doc }) => {
    if (doc.kind !== "event-page") docs.push(doc);
  });
  const hosts: ComponentHost[] = [];
  for (const [name, def] of [
    ["pmt", pmtSimComponent],
    ["jobs", jobsComponent],
    ["scan", pmtScanComponent],
  ] as const) {
    const [coreEnd, compEnd] = inprocLinkPair<CoreToComponent, ComponentToCore>();
    core.attach(coreEnd);
    hosts.push(
      await ComponentHost.create({
        name,
        def: def as unknown as ComponentDef<unknown>,
        params: params[name],
        instrument: "pmt",
        bus,
        dataDir,
        link: compEnd,
      }),
    );
  }
  const call = <T>(component: string, action: string, p: unknown = {}) =>
    resultOf(core.call(component, action, p, { timeoutMs: 20_000 })) as Promise<T>;
  return {
    bus,
    core,
    dataDir,
    docs,
    call,
    async finish(timeoutMs) {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        const w = await call<{ running: boolean; outcome?: PlanOutcome<ScanSummary> }>("scan", "wait", {
          timeoutMs: 5000,
        });
        if (!w.running) return w.outcome!;
      }
      throw new Error(`the plan did not end within ${timeoutMs} ms`);
    },
    async close() {
      for (const h of hosts) await h.close();
      await core.close();
      untap();
      bus.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Files under a directory, relative to it, sorted. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  walk(dir);
  return out.sort();
}

const events = (docs: Document[], stream: string) =>
  docs.filter((d): d is Event => d.kind === "event" && d.stream === stream);

describe("PMT scan with the analysis on slurm over ssh", () => {
  let slurm: Slurm;
  let sshd: Sshd;
  let rig: Rig;
  let remote: string;
  const truth = (cell: number) => (cell === 5 ? 0.95e7 : cell === 13 ? 1.1e7 : 1.024e7);

  beforeAll(async () => {
    await ensureCompiled();
    slurm = await startSlurm();
    sshd = await startSshd({ setEnv: { SLURM_CONF: slurm.conf } });
    remote = mkdtempSync(join(tmpdir(), "hutch-pmt-cluster-"));
    rig = await startRig({
      pmt: { gains: { "5": 0.95e7, "13": 1.1e7 }, eventsAt: { "17": 5 }, events: 20_000 },
      jobs: {
        dir: "scans",
        pollMs: 200,
        areas: { flag: "FLAG", archive: "archive" },
        defaultTarget: "cluster",
        targets: {
          local: { kind: "local" },
          cluster: {
            kind: "slurm",
            ssh: sshd.ssh,
            dir: join(remote, "work"),
            areas: { flag: join(remote, "FLAG"), archive: join(remote, "archive") },
          },
        },
      },
      scan: { target: "cluster", analysis: { argv: ANALYSE, timeLimitMs: 120_000 } },
    });
  }, 60_000);
  afterAll(async () => {
    await rig?.close();
    await sshd?.close();
    await slurm?.close();
    if (remote) rmSync(remote, { recursive: true, force: true });
  });

  it("21 points analysed as slurm jobs fill the grid: gains within errors, red out of range, yellow without data", async () => {
    const canary = join(remote, "CANARY");
    const serial = `EA1234'; touch ${canary}; echo "$(touch ${canary})" \`touch ${canary}\``;
    const started = await rig.call<{ name: string; steps: number }>("scan", "scan", { serial });
    expect(started.name).toMatch(/^EA1234_touch_/);
    const out = await rig.finish(110_000);
    expect(out.status, out.error).toBe("done");
    const sum = out.result!;
    expect(sum.counts).toEqual({ green: 18, red: 2, yellow: 1 });
    for (const c of sum.cells) {
      if (c.cell === 17) {
        expect(c).toMatchObject({ status: "no-data", colour: "yellow" });
        expect(c.gain).toBeNaN();
        continue;
      }
      expect(c.status).toBe("ok");
      expect(Math.abs(c.gain - truth(c.cell)), `cell ${c.cell}`).toBeLessThan(4 * c.gainError);
      expect(c.colour).toBe(c.cell === 5 || c.cell === 13 ? "red" : "green");
    }
    expect(existsSync(canary)).toBe(false);

    // What the dashboard's scan grid makes of the published documents.
    const labels = scanLabels(PmtScanSettingsSchema.parse({}));
    const panel = resolvePanels([
      {
        type: "scan-grid",
        stream: "pmt-gain",
        value: "gain",
        hist: "counts",
        histRange: [0.5, 4.5],
        healthy: [0.999e7, 1.049e7],
        cells: labels,
        columns: 7,
      },
    ])[0] as PanelOf<"scan-grid">;
    const feed = new ScanFeed(panel);
    for (const d of events(rig.docs, "pmt-gain")) feed.onData(d);
    for (let i = 0; i < 21; i++) {
      const cell = feed.cell(i)!;
      expect(Number.isNaN(cell.value)).toBe(i === 17);
      expect(cell.counts?.length).toBe(80);
    }
    // Every point went through slurm; the serial reached the analysis intact, as data.
    const results = events(rig.docs, "pmt-gain");
    expect(results).toHaveLength(21);
    expect(new Set(results.map((e) => e.data.serial))).toEqual(new Set([serial]));
    const finals = events(rig.docs, "jobs").filter((e) => e.data.state === "completed");
    expect(finals).toHaveLength(21);
    expect(finals.every((e) => e.data.target === "cluster" && /^\d+$/.test(String(e.data.native)))).toBe(
      true,
    );
    // The run: plan, serial in its configuration, the tally in its stop reason.
    const entry = (await rig.core.runs()).find((r) => r.run === out.run)!;
    expect(entry).toMatchObject({ plan: "pmt-scan", exitStatus: "success" });
    expect(entry.reason).toBe("scan complete: 18 in range, 2 out of range, 1 without a gain");
    expect((entry.config.run as { scan: { serial: string } }).scan.serial).toBe(serial);
  }, 120_000);

  it("flag moves exactly the scan's files, here and on the cluster, and records them in the run catalog", async () => {
    const last = (await rig.call<{ scans: { name: string; run: number }[] }>("scan", "status")).scans.at(-1)!;
    const local = join(rig.dataDir, "scans", last.name);
    mkdirSync(join(rig.dataDir, "scans", "other"), { recursive: true });
    writeFileSync(join(rig.dataDir, "scans", "other", "keep.txt"), "not this scan's");
    const before = tree(local);
    const remoteBefore = tree(join(remote, "work", last.name));
    expect(before.filter((f) => f.endsWith(".npy"))).toHaveLength(21);
    expect(before.filter((f) => f.endsWith("/result.json"))).toHaveLength(21);
    expect(remoteBefore.filter((f) => f.endsWith("/job.sh"))).toHaveLength(21);
    const d = await rig.call<{ area: string; files: number; moves: { where: string; to: string }[] }>(
      "scan",
      "flag",
    );
    expect(d.area).toBe("flag");
    expect(d.moves.map((m) => m.where).sort()).toEqual(["cluster", "local"]);
    expect(existsSync(local)).toBe(false);
    expect(tree(join(rig.dataDir, "FLAG", last.name))).toEqual(before);
    expect(tree(join(remote, "FLAG", last.name))).toEqual(remoteBefore);
    expect(existsSync(join(remote, "work", last.name))).toBe(false);
    expect(readFileSync(join(rig.dataDir, "scans", "other", "keep.txt"), "utf8")).toBe("not this scan's");
    const entry = rig.core.catalog.get(last.run)!;
    const flagged = entry.files.filter((f) => f.component === "scan:flag");
    expect(flagged).toHaveLength(before.length);
    expect(
      flagged.every((f) => f.path.startsWith(join(rig.dataDir, "FLAG", last.name)) && f.sha256.length === 64),
    ).toBe(true);
    await expect(rig.call("scan", "archive", { name: last.name })).rejects.toThrow(/already moved to flag/);
    await expect(rig.call("jobs", "move", { group: "../other", area: "archive" })).rejects.toThrow(
      /not a group name/,
    );
  });
});

describe("PMT scans on the local target", () => {
  let rig: Rig;
  beforeAll(async () => {
    await ensureCompiled();
    rig = await startRig({
      pmt: { events: 4000 },
      jobs: { dir: "scans", pollMs: 100, areas: { flag: "FLAG", archive: "archive" } },
      scan: { thetasDeg: [10], phisDeg: [0, 90], analysis: { argv: ANALYSE } },
    });
  }, 30_000);
  afterAll(async () => {
    await rig?.close();
  });

  it("an undecided scan is archived when the next starts; a scan is decided once", async () => {
    const a = await rig.call<{ name: string }>("scan", "scan", { serial: "A1" });
    expect((await rig.finish(60_000)).status).toBe("done");
    const filesA = tree(join(rig.dataDir, "scans", a.name));
    const b = await rig.call<{ name: string }>("scan", "scan", { serial: "B2", reference: a.name });
    const outB = await rig.finish(60_000);
    expect(outB.status).toBe("done");
    expect(tree(join(rig.dataDir, "archive", a.name))).toEqual(filesA);
    const st = await rig.call<{ scans: { name: string; decision?: { area: string; automatic: boolean } }[] }>(
      "scan",
      "status",
    );
    expect(st.scans.find((s) => s.name === a.name)!.decision).toMatchObject({
      area: "archive",
      automatic: true,
    });
    // B drew A's histograms as its reference.
    expect(
      events(rig.docs, "pmt-reference").filter(
        (e) => e.runUid === events(rig.docs, "pmt-gain").at(-1)!.runUid,
      ),
    ).toHaveLength(3);
    expect((await rig.call<{ automatic: boolean }>("scan", "archive")).automatic).toBe(false);
    await expect(rig.call("scan", "flag", { name: b.name })).rejects.toThrow(/already moved to archive/);
  }, 90_000);

  it("the HV check fits log10(gain) vs log10(HV) over its voltages and publishes the HV for gain 1e7", async () => {
    await rig.call("scan", "hv-check", { serial: "D4" });
    const out = await rig.finish(60_000);
    expect(out.status, out.error).toBe("done");
    const hv = out.result!.hv!;
    // The simulator's gain is 1.024e7 x (V / 1800)^7.
    const truth = 1800 * (1e7 / 1.024e7) ** (1 / 7);
    expect(Math.abs(hv.hvAtTargetV - truth)).toBeLessThan(4 * hv.hvAtTargetErrorV + 0.5);
    expect(Math.abs(hv.slope - 7)).toBeLessThan(4 * hv.slopeError);
    const ev = events(rig.docs, "pmt-hv").at(-1)!;
    expect(ev.data).toMatchObject({ status: "ok", points: 5, target_gain: 1e7 });
    const entry = (await rig.core.runs()).find((r) => r.run === out.run)!;
    expect(entry.reason).toMatch(/^HV for gain 1\.00e\+7: \d+\.\d ± \d+\.\d V$/);
  }, 60_000);

  it("aborting a scan aborts its run and cancels its jobs", async () => {
    await resultOf(
      rig.core.command("prepare", { components: { scan: { analysis: { argv: ["sleep", "60"] } } } }),
    );
    await rig.call("scan", "scan", { serial: "C3" });
    const end = Date.now() + 20_000;
    for (;;) {
      const running = (await rig.call<{ state: string }[]>("jobs", "list")).filter(
        (j) => j.state === "running",
      );
      if (running.length === 3) break;
      if (Date.now() > end) throw new Error("the scan's jobs did not start");
      await new Promise((r) => setTimeout(r, 50));
    }
    await rig.call("scan", "abort");
    const out = await rig.finish(20_000);
    expect(out.status).toBe("aborted");
    const entry = (await rig.core.runs()).find((r) => r.run === out.run)!;
    expect(entry).toMatchObject({ exitStatus: "abort", reason: "plan pmt-scan aborted" });
    const jobs = await rig.call<{ state: string; label: string }[]>("jobs", "list");
    expect(jobs.filter((j) => j.label.startsWith("C3")).map((j) => j.state)).toEqual([
      "cancelled",
      "cancelled",
      "cancelled",
    ]);
  }, 60_000);
});
