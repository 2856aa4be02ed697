// The `area-detector-sim` component: a simulated area detector and its trigger inside `hutch up`, for demos and benches.
import { createSocket, type Socket } from "node:dgram";
import { z } from "zod";
import { defineComponent } from "../../component/index.js";
import { AreaDetectorSim } from "./area-detector-sim.js";
import { encodeTrigger } from "./trigger-generator.js";

const HostPort = z.string().regex(/^[^:]+:\d{1,5}$/, "HOST:PORT, e.g. 127.0.0.1:5720");

/** Params of the in-process area-detector simulator. */
export const AreaDetectorSimComponentParams = z.strictObject({
  /** Frame server the `area-detector` source connects to (its `detector`). */
  listen: HostPort.default("127.0.0.1:5700"),
  /** UDP trigger input (port 0: any; the component's own trigger aims at it). */
  triggerListen: HostPort.default("127.0.0.1:0"),
  width: z.number().int().min(8).max(4096).default(256),
  height: z.number().int().min(8).max(4096).default(256),
  /** Triggers per second sent while a run is on. */
  rateHz: z.number().positive().max(15).default(2),
  /** The first triggers of each run carry no beam (skip and background frames of the arm). */
  darkTriggers: z.number().int().min(0).default(5),
  /** After them, every Nth trigger carries beam (1: all). */
  shotEvery: z.number().int().min(1).default(1),
  readoutMs: z.number().nonnegative().default(66.7),
  /** Free-run (idle mode) after this long without a trigger, at `idleRateHz`. */
  idleAfterMs: z.number().positive().default(20_000),
  idleRateHz: z.number().positive().max(15).default(1),
  seed: z.number().int().default(1),
});
/** Params after defaults. */
export type AreaDetectorSimComponentParams = z.output<typeof AreaDetectorSimComponentParams>;

/** Sends numbered trigger datagrams at a fixed rate; beam per `isShot`. */
class RunTrigger {
  sent = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly host: string,
    private readonly port: number,
  ) {}

  start(rateHz: number, isShot: (n: number) => boolean): void {
    this.stop();
    this.sent = 0;
    const periodMs = 1000 / rateHz;
    const t0 = performance.now();
    const tick = () => {
      const n = ++this.sent;
      this.socket.send(encodeTrigger(n, isShot(n)), this.port, this.host);
      this.timer = setTimeout(tick, Math.max(0, t0 + n * periodMs - performance.now()));
    };
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * A simulated Varex-style detector bound when the instrument starts (an `area-detector` source can arm it at
 * prepare), plus a trigger generator that fires only while a run is on: `darkTriggers` without beam, then beam on
 * every `shotEvery`th trigger. Between runs the detector goes idle and free-runs (frames the source rejects).
 * Role `source`: list it after the `area-detector` it feeds, so the source is armed before triggers come.
 * @example components: [{ name: det-sim, type: area-detector-sim, params: { listen: "127.0.0.1:5720", rateHz: 2 } }]
 */
export const areaDetectorSimComponent = defineComponent<AreaDetectorSimComponentParams>({
  type: "area-detector-sim",
  description: "simulated area detector (frames over TCP) with a trigger generator running during runs",
  role: "source",
  params: AreaDetectorSimComponentParams as unknown as z.ZodType<AreaDetectorSimComponentParams>,
  async create(initial, ctx) {
    let p = initial;
    const sim = await AreaDetectorSim.open({
      listen: p.listen,
      triggerListen: p.triggerListen,
      width: p.width,
      height: p.height,
      readoutMs: p.readoutMs,
      idleAfterMs: p.idleAfterMs,
      idleRateHz: p.idleRateHz,
      seed: p.seed,
    });
    const udp = createSocket("udp4");
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once("error", reject);
        udp.bind(0, "127.0.0.1", () => resolve());
      });
    } catch (err) {
      await sim.close();
      throw err;
    }
    const [th, tp] = sim.triggerAddress.split(":");
    const trigger = new RunTrigger(udp, th === "0.0.0.0" ? "127.0.0.1" : th!, Number(tp));
    ctx.log.info(
      `simulated area detector ${p.width} x ${p.height}: frames at ${sim.address}, triggers at ${sim.triggerAddress}`,
    );
    const timer = setInterval(() => {
      for (const [k, v] of Object.entries(sim.stats)) ctx.counters.set(k, v);
      ctx.counters.set("triggers_sent", trigger.sent);
    }, 1000);
    timer.unref();
    return {
      configure(cfg) {
        const next = AreaDetectorSimComponentParams.parse(cfg);
        // The sockets and the frame size are fixed when the instrument starts; only the trigger pattern changes.
        p = { ...next, listen: p.listen, triggerListen: p.triggerListen, width: p.width, height: p.height };
      },
      start() {
        const { darkTriggers, shotEvery } = p;
        trigger.start(p.rateHz, (n) => n > darkTriggers && (n - darkTriggers) % shotEvery === 0);
        ctx.log.info(`triggering at ${p.rateHz} Hz (beam after ${darkTriggers}, every ${shotEvery})`);
      },
      stop() {
        trigger.stop();
      },
      reset() {
        trigger.stop();
      },
      async close() {
        clearInterval(timer);
        trigger.stop();
        await new Promise<void>((r) => udp.close(() => r()));
        await sim.close();
      },
    };
  },
});
