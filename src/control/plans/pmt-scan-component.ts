// The `pmt-scan` component: runs PMT scans and HV checks as plans in the core; flag / archive decisions.
import { z } from "zod";
import {
  ErrorCode,
  HutchError,
  nd,
  nowSec,
  toHutchError,
  type FieldSpec,
  type StreamFactory,
} from "../../core/index.js";
import { defineComponent, type ActionDef, type ComponentContext } from "../../component/index.js";
import { resultOf } from "../progress.js";
import { coreOf, type CoreHandle } from "./core-registry.js";
import { dryRun, type Plan, type PlanStep } from "./plan-steps.js";
import { runPlan, type PlanOutcome } from "./plan-runner.js";
import {
  pmtHvPlan,
  pmtScanPlan,
  PmtScanSettingsSchema,
  type PmtScanSettings,
  type ScanSummary,
} from "./pmt-scan-plan.js";
import { ScanLedger, type ScanRecord } from "./scan-ledger.js";
import { scanName } from "./scan-points.js";

const action = <P, R>(a: ActionDef<P, R>) => a as unknown as ActionDef<never>;
const ScanNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "a scan name (one path segment)");
const StartSchema = z.strictObject({
  /** The PMT's serial number: any text, passed to jobs as data (never through a shell). */
  serial: z.string().min(1).max(200),
  /** An earlier scan whose histograms are drawn under this scan's. */
  reference: ScanNameSchema.optional(),
});
const DecideSchema = z.strictObject({ name: ScanNameSchema.optional() });

/** Rows of the plan progress stream (a jobs panel shows them). */
const PLAN_FIELDS: Record<string, FieldSpec> = {
  id: { dtype: "string", shape: [] },
  label: { dtype: "string", shape: [] },
  state: { dtype: "string", shape: [] },
  done: { dtype: "float64", shape: [] },
  total: { dtype: "float64", shape: [] },
  message: { dtype: "string", shape: [] },
};

interface Running {
  readonly name: string;
  readonly plan: string;
  readonly abort: AbortController;
  done: Promise<PlanOutcome<ScanSummary>>;
  stopping: boolean;
  progress: { done: number; total: number; message: string };
}

/** Event data from plan values: plain or typed arrays become float64 arrays. */
function eventData(data: Record<string, unknown>): Record<string, never> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (Array.isArray(v)) out[k] = nd(Float64Array.from(v as number[]));
    else if (ArrayBuffer.isView(v)) out[k] = nd(Float64Array.from(v as unknown as ArrayLike<number>));
    else out[k] = v;
  }
  return out as Record<string, never>;
}

function needCore(ctx: ComponentContext): CoreHandle {
  const c = coreOf(ctx.bus);
  if (!c) {
    throw new HutchError(
      ErrorCode.Config,
      `${ctx.name}: no run-control core registered on this process's bus (the core calls registerCore(bus, core); ` +
        "this component must run inproc in `hutch up`, not in its own process)",
    );
  }
  return c;
}

/**
 * Runs a PMT position scan (`scan {serial}`) or HV check (`hv-check {serial}`) as a plan in the core: the plan
 * prepares and starts a run, acquires each point, submits its gain analysis as a job and collects the results
 * the jobs publish; the browser can close meanwhile. `dry-run` lists the steps. `flag` / `archive` move the last
 * (or a named) scan's files to that area, record them in the run catalog; an undecided scan is archived when the
 * next one starts.
 * @example { name: scan, type: pmt-scan, params: { daq: pmt, jobs: jobs, target: cluster } }
 */
export const pmtScanComponent = defineComponent<PmtScanSettings>({
  type: "pmt-scan",
  description: "PMT scans and HV checks as plans run in the core; flag / archive of a scan's data",
  role: "stage",
  params: PmtScanSettingsSchema,
  create: (initial, ctx) => {
    let s = initial;
    const ledger = new ScanLedger(ctx.dataDir);
    // A scan still "running" in the ledger lost its plan when the process ended.
    for (const old of ledger.list()) {
      if (old.status === "running") {
        ledger.update(old.name, {
          status: "aborted",
          endedAt: nowSec(),
          error: "Hutch stopped during the scan",
        });
      }
    }
    let running: Running | undefined;
    let streams = new Map<string, StreamFactory>();
    let chain: Promise<unknown> = Promise.resolve();

    const publish = (stream: string, fields: Record<string, FieldSpec>, data: Record<string, unknown>) => {
      const next = chain.then(async () => {
        if (!ctx.run) return;
        let f = streams.get(stream);
        if (!f) {
          f = ctx.stream(stream, fields);
          streams.set(stream, f);
          await ctx.bus.publish(f.descriptor);
        }
        await ctx.bus.publish(f.event(eventData(data), nowSec()));
      });
      chain = next.catch((e) => ctx.log.error(`${stream}: ${toHutchError(e).message}`));
      return next;
    };

    const row = (r: Running, state: string) =>
      publish("plans", PLAN_FIELDS, { id: r.name, label: r.plan, state, ...r.progress });

    async function decide(name: string | undefined, area: "flag" | "archive", automatic: boolean) {
      const core = needCore(ctx);
      const rec = name ? ledger.get(name) : ledger.last();
      if (!rec) throw new HutchError(ErrorCode.Validation, name ? `no scan '${name}'` : "no scan yet");
      if (rec.status === "running")
        throw new HutchError(ErrorCode.Transition, `scan ${rec.name} is still running`);
      if (rec.decision) {
        throw new HutchError(
          ErrorCode.Transition,
          `scan ${rec.name} was already moved to ${rec.decision.area}`,
        );
      }
      const report = (await resultOf(
        core.call(s.jobs, "move", { group: rec.name, area }, { timeoutMs: 120_000 }),
      )) as {
        moves: { where: string; from: string; to: string }[];
        files: { path: string; bytes: number; sha256: string }[];
      };
      if (rec.run !== undefined) {
        core.catalog.finish(rec.run, {
          files: report.files.map((f) => ({ ...f, component: `${ctx.name}:${area}` })),
        });
      }
      const decision = { area, at: nowSec(), automatic, moves: report.moves, files: report.files.length };
      ledger.update(rec.name, { decision });
      ctx.log.info(
        `scan ${rec.name} (${rec.serial}) ${automatic ? "archived automatically" : `moved to ${area}`}: ${report.files.length} file(s); ${report.moves.map((m) => `${m.where}: ${m.to}`).join("; ")}`,
      );
      return { name: rec.name, ...decision };
    }

    async function begin(kind: "pmt-scan" | "pmt-hv-check", a: z.infer<typeof StartSchema>) {
      const core = needCore(ctx);
      if (running)
        throw new HutchError(ErrorCode.Transition, `plan ${running.plan} ${running.name} is running`);
      for (const old of ledger.list()) {
        if (old.status === "running" || old.decision) continue;
        await decide(old.name, "archive", true).catch((e) => {
          const why = toHutchError(e).message;
          if (/has no files anywhere/.test(why)) {
            // Nothing was written (a scan that failed at once): nothing to decide any more.
            ledger.update(old.name, {
              decision: { area: "archive", at: nowSec(), automatic: true, moves: [], files: 0 },
            });
          } else
            ctx.alarm(`archive:${old.name}`, "warning", `automatic archive of ${old.name} failed: ${why}`);
        });
      }
      let name = scanName(a.serial, new Date());
      for (let i = 2; ledger.get(name); i++) name = `${scanName(a.serial, new Date())}-${i}`;
      const reference = a.reference ? ledger.results(a.reference) : undefined;
      if (a.reference && !reference)
        throw new HutchError(ErrorCode.Validation, `no results kept for scan '${a.reference}'`);
      const id = { serial: a.serial, name, ...(reference ? { reference } : {}) };
      const plan: Plan<ScanSummary> = kind === "pmt-scan" ? pmtScanPlan(s, id) : pmtHvPlan(s, id);
      const rec: ScanRecord = { name, serial: a.serial, plan: kind, startedAt: nowSec(), status: "running" };
      ledger.add(rec);
      const abort = new AbortController();
      const r: Running = {
        name,
        plan: kind,
        abort,
        stopping: false,
        progress: { done: 0, total: 1, message: "starting" },
        done: Promise.resolve({ status: "aborted", steps: 0 }),
      };
      r.done = runPlan(plan, {
        api: core,
        bus: ctx.bus,
        log: ctx.log,
        signal: abort.signal,
        emit: (stream, fields, data) => publish(stream, fields, data),
        onStep: (step: PlanStep) => {
          if (step.kind === "command" && step.command === "start") streams = new Map();
          if (step.kind === "command" && (step.command === "stop" || step.command === "abort"))
            r.stopping = true;
        },
        onProgress: (done, total, message) => {
          r.progress = { done, total, message };
          void row(r, done >= total ? "completed" : "running");
        },
        onFail: async (status, message) => {
          r.progress = { ...r.progress, message };
          await row(r, status === "aborted" ? "cancelled" : "failed");
        },
      }).then((out) => {
        running = undefined;
        if (out.result?.collected) ledger.saveResults(name, out.result.collected);
        const patch: Partial<ScanRecord> = {
          status: out.status,
          endedAt: nowSec(),
          ...(out.run !== undefined ? { run: out.run } : {}),
          ...(out.error ? { error: out.error } : {}),
          ...(out.result ? { counts: out.result.counts } : {}),
        };
        // The raw per-cell data is kept in the ledger's results file, not in the outcome sent to callers.
        const result = out.result ? { ...out.result, collected: undefined } : undefined;
        ledger.update(name, patch);
        if (out.status !== "done") ctx.log.warn(`${kind} ${name} ${out.status}: ${out.error}`);
        return result ? { ...out, result } : out;
      });
      running = r;
      return { name, serial: a.serial, plan: kind, steps: dryRun(plan).steps.length };
    }

    return {
      configure: (config) => {
        s = PmtScanSettingsSchema.parse(config);
      },
      start: (run) => {
        streams = new Map();
        if (running) ledger.update(running.name, { run: run.run });
      },
      stop: () => {
        // Stopped by someone else while the plan runs: the plan ends (never awaited here: it may wait for us).
        if (running && !running.stopping) running.abort.abort();
        streams = new Map();
      },
      close: async () => {
        running?.abort.abort();
        await running?.done;
      },
      actions: {
        scan: action({
          description: "start a PMT position scan (21 points by default): {serial, reference?}",
          params: StartSchema,
          run: (a) => begin("pmt-scan", a),
        }),
        "hv-check": action({
          description: "start an HV check (gain at each voltage, HV for the target gain): {serial}",
          params: StartSchema,
          run: (a) => begin("pmt-hv-check", a),
        }),
        "dry-run": action({
          description: "list the steps of a scan or HV check without doing anything: {serial, plan?}",
          params: z.strictObject({
            serial: z.string().min(1).max(200),
            plan: z.enum(["pmt-scan", "pmt-hv-check"]).default("pmt-scan"),
          }),
          run: (a) => {
            const id = { serial: a.serial, name: scanName(a.serial, new Date()) };
            return dryRun(a.plan === "pmt-scan" ? pmtScanPlan(s, id) : pmtHvPlan(s, id));
          },
        }),
        abort: action({
          description: "abort the running plan (its run is aborted, its jobs cancelled)",
          params: z.strictObject({}),
          run: () => {
            if (!running) throw new HutchError(ErrorCode.Transition, "no plan is running");
            running.abort.abort();
            return { aborting: running.name };
          },
        }),
        status: action({
          description: "the running plan (with progress) and the scans so far",
          params: z.strictObject({}),
          run: () => ({
            running: running ? { name: running.name, plan: running.plan, ...running.progress } : null,
            scans: ledger.list(),
          }),
        }),
        wait: action({
          description: "wait up to timeoutMs for the running plan to end; its outcome",
          params: z.strictObject({ timeoutMs: z.number().int().min(0).max(600_000).default(10_000) }),
          run: async (a) => {
            const r = running;
            if (!r) return { running: false, last: ledger.last() ?? null };
            const t = new Promise((res) => setTimeout(() => res(undefined), a.timeoutMs));
            const out = await Promise.race([r.done, t]);
            return out ? { running: false, outcome: out, last: ledger.get(r.name) } : { running: true };
          },
        }),
        flag: action({
          description: "move the last (or the named) scan's data to the flag area",
          params: DecideSchema,
          run: (a) => decide(a.name, "flag", false),
        }),
        archive: action({
          description: "move the last (or the named) scan's data to the archive area",
          params: DecideSchema,
          run: (a) => decide(a.name, "archive", false),
        }),
      },
    };
  },
});
