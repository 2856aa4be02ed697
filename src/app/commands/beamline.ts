// `hutch sim beamline` (SACLA-like tags and MPCCD frames) and `hutch online` (newest tags, status) from the command line.
import type { Command } from "commander";
import { ErrorCode, HutchError } from "../../core/index.js";
import { BeamlineSimOptionsSchema, runBeamlineSim, type BeamlineSimInput } from "../../sim/index.js";
import { OnlineAccessClient } from "../../sources/index.js";
import { untilSignal } from "../cli-support.js";
import { componentTypes } from "../component-types.js";
import { formatIssues, loadInstrument } from "../config.js";
import { simGroup } from "./sim-target-c.js";

const num = (v: string) => Number(v);

/** A param of the first component of `type` in the instrument file (`--config` or HUTCH_CONFIG). */
function fromFile(config: string | undefined, type: string, param: string): string | undefined {
  const file = config ?? process.env.HUTCH_CONFIG;
  if (!file) return undefined;
  const c = loadInstrument(file, componentTypes()).components.find((x) => x.type === type);
  const v = c?.params[param];
  return typeof v === "string" ? v : undefined;
}

/** `--fail mpccd2@10` or `mpccd2@10:error` -> a scheduled fault. */
function parseFault(s: string): { detector: string; afterS: number; mode: "absent" | "error" } {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:@(\d+(?:\.\d+)?))?(?::(absent|error))?$/.exec(s);
  if (!m)
    throw new HutchError(ErrorCode.Config, `--fail: expected DETECTOR[@SECONDS][:absent|error], got '${s}'`);
  return { detector: m[1]!, afterS: Number(m[2] ?? 0), mode: (m[3] ?? "absent") as "absent" | "error" };
}

function registerSimBeamline(program: Command): void {
  simGroup(program)
    .command("beamline")
    .description(
      "SACLA-like beamline: 30 Hz tags with I0, beam status, delay motor and MPCCD frames, over ZeroMQ",
    )
    .option("--to <address>", "the beamline source's listen address (default: from --config)")
    .option("--config <file>", "instrument file whose beamline-source gives --to")
    .option("--instrument <name>", "instrument name in the message topics", "sacla")
    .option("--rate <hz>", "tags per second", num, 30)
    .option("--detectors <names>", "area detectors (comma list; 1024 x 512 each)", "mpccd1,mpccd2")
    .option("--width <px>", "detector width", num, 1024)
    .option("--height <px>", "detector height", num, 512)
    .option("--gain <g>", "absolute gain of the detectors (calibrated = raw x gain)", num, 1)
    .option("--photons <n>", "mean photons per shot at I0 = 1", num, 4000)
    .option("--first-tag <n>", "tag number of the first pulse", num, 100_000_000)
    .option("--tag-step <n>", "tag increment between pulses", num, 2)
    .option("--scan <lo:hi>", "delay range in ps", "-2.5:3.5")
    .option("--scale <ps>", "ps per delay motor pulse", num, 6.666e-3)
    .option("--t0 <ps>", "time zero in ps (position = (delay + t0) / scale)", num, 0)
    .option("--beam-off <p>", "fraction of tags without beam", num, 0.05)
    .option("--seed <n>", "random seed", num, 1)
    .option("--fail <spec...>", "fault: DETECTOR[@SECONDS][:absent|error], e.g. mpccd2@10")
    .option("--tags <n>", "stop after this many tags", num)
    .option("--duration <s>", "stop after this many seconds", num)
    .action(async (o) => {
      const to = (o.to as string | undefined) ?? fromFile(o.config, "beamline-source", "listen");
      if (!to) throw new HutchError(ErrorCode.Config, "sim beamline: give --to ADDRESS or --config FILE");
      const [lo, hi] = String(o.scan).split(":").map(Number);
      const names = String(o.detectors).split(",").filter(Boolean);
      const input: BeamlineSimInput = {
        to,
        instrument: o.instrument,
        rateHz: o.rate,
        firstTag: o.firstTag,
        tagStep: o.tagStep,
        detectors: names.map((name, i) => ({
          name,
          width: o.width,
          height: o.height,
          gain: o.gain,
          photons: o.photons,
          pattern: i % 2 ? "spot" : "ring",
          effect: i % 2 ? -0.5 : 0.8,
        })),
        scanPs: [lo ?? NaN, hi ?? NaN],
        delayScale: o.scale,
        t0Ps: o.t0,
        beamOffFraction: o.beamOff,
        seed: o.seed,
        faults: ((o.fail as string[] | undefined) ?? []).map(parseFault),
        ...(o.tags
          ? { tags: o.tags }
          : o.duration
            ? { tags: Math.max(1, Math.round(o.duration * o.rate)) }
            : {}),
      };
      const parsed = BeamlineSimOptionsSchema.safeParse(input);
      if (!parsed.success)
        throw new HutchError(ErrorCode.Config, formatIssues("sim beamline", parsed.error, input));
      const ac = new AbortController();
      void untilSignal(async () => ac.abort());
      console.error(
        `sim beamline: ${names.join(", ") || "no detectors"} -> ${to} at ${input.rateHz} Hz (Ctrl-C stops)`,
      );
      const stats = await runBeamlineSim(parsed.data, {
        signal: ac.signal,
        reportMs: 5000,
        report: (s) =>
          console.error(
            `sim beamline: ${s.sent} tags sent, ${s.dropped} dropped (receiver slow or absent), ${s.frames} frames`,
          ),
      });
      console.log(JSON.stringify(stats));
    });
}

function registerOnline(program: Command): void {
  const online = program
    .command("online")
    .description(
      "online access: the newest tags of point detectors and ROI sums (an online-access component's serve)",
    );
  const client = async (o: { address?: string; config?: string; timeout: number }) => {
    const address = o.address ?? fromFile(o.config, "online-access", "serve");
    if (!address) throw new HutchError(ErrorCode.Config, "online: give --address ADDRESS or --config FILE");
    return OnlineAccessClient.connect(address, { timeoutMs: o.timeout * 1000 });
  };
  const common = (c: Command) =>
    c
      .option("--address <address>", "the online-access serve address (default: from --config)")
      .option("--config <file>", "instrument file whose online-access component gives the address")
      .option("--timeout <s>", "give up after this many seconds", num, 5);
  common(online.command("newest"))
    .description("the newest N tags of named fields (bare names like i0, roi1, or stream.field)")
    .option("-n <count>", "tags", num, 120)
    .option("--names <names>", "comma-separated names", "")
    .option("--every <s>", "repeat every S seconds until Ctrl-C", num, 0)
    .action(async (o) => {
      const oa = await client(o);
      const names = String(o.names).split(",").filter(Boolean);
      let stop = false;
      if (o.every > 0) void untilSignal(async () => void (stop = true));
      try {
        do {
          const r = await oa.newest(o.n, names);
          const rows = [...r.tags].map((t, i) => [t, ...names.map((n) => r.values[n]![i]!)]);
          console.log(["tag", ...names].join("\t"));
          for (const row of rows)
            console.log(row.map((x) => (Number.isNaN(x) ? "nan" : String(x))).join("\t"));
          if (o.every > 0 && !stop) await new Promise((res) => setTimeout(res, o.every * 1000));
        } while (o.every > 0 && !stop);
      } finally {
        oa.close();
      }
    });
  common(online.command("status"))
    .description("what online access holds, and every problem it knows of (missing detector, silent stream)")
    .action(async (o) => {
      const oa = await client(o);
      try {
        const s = await oa.status();
        console.log(JSON.stringify(s, null, 2));
        if (!s.ok) process.exitCode = 1;
      } finally {
        oa.close();
      }
    });
  common(online.command("names"))
    .description("every name that can be asked for")
    .action(async (o) => {
      const oa = await client(o);
      try {
        for (const n of await oa.names()) console.log(n);
      } finally {
        oa.close();
      }
    });
}

/** Registers `hutch sim beamline` and `hutch online newest|status|names`. */
export function registerBeamlineCommands(program: Command): void {
  registerSimBeamline(program);
  registerOnline(program);
}
