// A simulated Varex-style area detector: external trigger in (UDP), one frame per trigger out (TCP), idle free-run.
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server, type Socket } from "node:net";
import {
  AdFrameFlags,
  AdStreamParser,
  encodeAdFrame,
  encodeAdJson,
  type AdFrameMeta,
} from "../../codecs/index.js";
import { nowSec } from "../../core/index.js";
import { FrameSynth } from "./frame-synth.js";
import {
  AreaDetectorSimOptionsSchema,
  type AreaDetectorSimInput,
  type AreaDetectorSimOptions,
} from "./sim-options.js";
import { decodeTrigger } from "./trigger-generator.js";

/** What the simulator did. */
export interface AreaDetectorSimStats {
  triggers: number;
  /** Triggers that came while a readout was running (lost, as on the real detector). */
  triggers_missed: number;
  frames_triggered: number;
  /** Frames read out in idle mode, marked with the free-run flag. */
  frames_free_run: number;
  frames_sent: number;
  frames_dropped_fault: number;
  frames_dropped_backpressure: number;
  frames_unsent_no_client: number;
  clients: number;
  commands: number;
  /** Readouts in progress discarded by an `arm` (re-initialising acquisition flushes them). */
  readouts_cancelled: number;
}

/**
 * The detector side of the area-detector link. One client (the source) at a time: a new connection replaces the old
 * one. Each trigger datagram starts a readout of `readoutMs`; the frame then goes to the client. After `idleAfterMs`
 * without a trigger (or `arm`) the detector free-runs at `idleRateHz`, marking those frames `freeRun` and carrying no
 * trigger number, as tests need to prove they are rejected. Commands: `configure` (gain 1..7, binning 1..3), `arm`
 * (re-initialises acquisition: restarts the idle clock, discards readouts in progress), `disarm`.
 * @example const sim = await AreaDetectorSim.open({ listen: "127.0.0.1:0", triggerListen: "127.0.0.1:0", width: 256, height: 256 });
 */
export class AreaDetectorSim {
  readonly stats: AreaDetectorSimStats = {
    triggers: 0,
    triggers_missed: 0,
    frames_triggered: 0,
    frames_free_run: 0,
    frames_sent: 0,
    frames_dropped_fault: 0,
    frames_dropped_backpressure: 0,
    frames_unsent_no_client: 0,
    clients: 0,
    commands: 0,
    readouts_cancelled: 0,
  };
  /** Called for every frame read out (sent or not), for tests that compare with what the source took. */
  onFrame: ((meta: AdFrameMeta, sent: boolean) => void) | undefined;
  private client: Socket | undefined;
  private gain = 1;
  private binning = 1;
  private synth: FrameSynth;
  private frameNumber = 0;
  private busyUntilMs = 0;
  private lastTriggerMs = performance.now();
  private freeRun: NodeJS.Timeout | undefined;
  private readonly idleTimer: NodeJS.Timeout;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  private constructor(
    readonly o: AreaDetectorSimOptions,
    private readonly server: Server,
    private readonly udp: UdpSocket,
  ) {
    this.synth = this.makeSynth();
    server.on("connection", (s) => this.accept(s));
    udp.on("message", (m) => this.onTrigger(m));
    this.idleTimer = setInterval(() => this.checkIdle(), 50);
    this.idleTimer.unref?.();
  }

  /** Binds the frame server (TCP) and the trigger input (UDP). */
  static async open(input: AreaDetectorSimInput = {}): Promise<AreaDetectorSim> {
    const o = AreaDetectorSimOptionsSchema.parse(input);
    const [host, port] = o.listen.split(":");
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(Number(port), host, () => resolve());
    });
    const [th, tp] = o.triggerListen.split(":");
    const udp = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(Number(tp), th, () => resolve());
    });
    return new AreaDetectorSim(o, server, udp);
  }

  /** `host:port` of the frame server. */
  get address(): string {
    const a = this.server.address();
    return typeof a === "object" && a ? `${a.address}:${a.port}` : this.o.listen;
  }

  /** `host:port` of the trigger input. */
  get triggerAddress(): string {
    const a = this.udp.address();
    return `${a.address}:${a.port}`;
  }

  /** True while free-running (idle mode). */
  get idle(): boolean {
    return this.freeRun !== undefined;
  }

  /** Frame size after binning. */
  get frameShape(): { width: number; height: number } {
    return {
      width: Math.floor(this.o.width / this.binning),
      height: Math.floor(this.o.height / this.binning),
    };
  }

  private makeSynth(): FrameSynth {
    const { width, height } = this.frameShape;
    return new FrameSynth({ ...this.o, width, height, gain: this.gain });
  }

  private hello(): Record<string, unknown> {
    return {
      t: "hello",
      model: "hutch-sim Varex 4343",
      ...this.frameShape,
      gain: this.gain,
      binning: this.binning,
      idleAfterMs: this.o.idleAfterMs,
      readoutUs: Math.round(this.o.readoutMs * 1000),
    };
  }

  private accept(s: Socket): void {
    this.client?.destroy();
    this.client = s;
    this.stats.clients++;
    s.setNoDelay(true);
    const parser = new AdStreamParser({ frame: () => undefined, json: (m) => this.command(s, m) });
    s.on("data", (c) => {
      try {
        parser.push(c);
      } catch {
        s.destroy();
      }
    });
    s.on("error", () => undefined);
    s.on("close", () => {
      if (this.client === s) this.client = undefined;
    });
    s.write(encodeAdJson(this.hello()));
  }

  private command(s: Socket, m: unknown): void {
    this.stats.commands++;
    const c = m as { t?: string; id?: number; gain?: unknown; binning?: unknown };
    const reply = (body: Record<string, unknown>) => s.write(encodeAdJson({ t: "reply", id: c.id, ...body }));
    switch (c.t) {
      case "configure": {
        const gain = c.gain ?? this.gain;
        const binning = c.binning ?? this.binning;
        if (!Number.isInteger(gain) || (gain as number) < 1 || (gain as number) > 7) {
          return void reply({ ok: false, error: `gain ${String(gain)} is not 1..7` });
        }
        if (binning !== 1 && binning !== 2 && binning !== 3) {
          return void reply({ ok: false, error: `binning ${String(binning)} is not 1, 2 or 3` });
        }
        if (gain !== this.gain || binning !== this.binning) {
          this.gain = gain as number;
          this.binning = binning;
          this.synth = this.makeSynth();
        }
        return void reply({ ok: true, ...this.frameShape, gain: this.gain, binning: this.binning });
      }
      case "arm":
        // Re-initialising acquisition: the idle clock restarts and readouts in progress are discarded.
        this.lastTriggerMs = performance.now();
        this.stopFreeRun();
        this.stats.readouts_cancelled += this.timers.size;
        for (const t of this.timers) clearTimeout(t);
        this.timers.clear();
        this.busyUntilMs = 0;
        return void reply({ ok: true });
      case "disarm":
        return void reply({ ok: true });
      default:
        return void reply({ ok: false, error: `unknown command '${String(c.t)}'` });
    }
  }

  private onTrigger(m: Buffer): void {
    const t = decodeTrigger(m);
    if (!t || this.closed) return;
    this.stats.triggers++;
    const now = performance.now();
    this.lastTriggerMs = now;
    this.stopFreeRun();
    if (now < this.busyUntilMs) {
      this.stats.triggers_missed++;
      return;
    }
    this.readout(AdFrameFlags.triggered | (t.shot ? AdFrameFlags.shot : 0), t.n, t.shot);
  }

  /** Starts a readout; the frame leaves `readoutMs` later (plus any injected delay). */
  private readout(flags: number, trigger: number, shot: boolean): void {
    this.busyUntilMs = performance.now() + this.o.readoutMs;
    const delay = this.o.faults.delayFrames.find((d) => d.trigger === trigger)?.ms ?? 0;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.emit(flags, trigger, shot);
    }, this.o.readoutMs + delay);
    this.timers.add(t);
  }

  private emit(flags: number, trigger: number, shot: boolean): void {
    if (this.closed) return;
    const { width, height } = this.frameShape;
    const meta: AdFrameMeta = {
      frameNumber: ++this.frameNumber,
      triggerNumber: trigger,
      flags,
      width,
      height,
      gain: this.gain,
      binning: this.binning,
      readoutUs: Math.round(this.o.readoutMs * 1000),
      time: nowSec(),
    };
    if (flags & AdFrameFlags.freeRun) this.stats.frames_free_run++;
    else this.stats.frames_triggered++;
    const f = this.o.faults;
    const c = this.client;
    let sent = false;
    if (trigger > 0 && f.dropTriggers.includes(trigger)) this.stats.frames_dropped_fault++;
    else if (!c) this.stats.frames_unsent_no_client++;
    else if (c.writableLength > this.o.maxBufferedFrames * width * height * 2) {
      this.stats.frames_dropped_backpressure++;
    } else {
      for (const b of encodeAdFrame(meta, this.synth.frame(shot))) c.write(b);
      this.stats.frames_sent++;
      sent = true;
      if (f.garbleAfterFrames !== undefined && this.stats.frames_sent === f.garbleAfterFrames) {
        c.write(Buffer.from("this is not a frame"));
      }
      if (f.disconnectAfterFrames !== undefined && this.stats.frames_sent === f.disconnectAfterFrames) {
        c.end();
      }
    }
    this.onFrame?.(meta, sent);
  }

  private checkIdle(): void {
    if (this.closed || this.freeRun) return;
    if (performance.now() - this.lastTriggerMs < this.o.idleAfterMs) return;
    const period = 1000 / this.o.idleRateHz;
    const tick = () => {
      if (performance.now() >= this.busyUntilMs) this.readout(AdFrameFlags.freeRun, 0, false);
    };
    tick();
    this.freeRun = setInterval(tick, period);
  }

  private stopFreeRun(): void {
    if (this.freeRun) clearInterval(this.freeRun);
    this.freeRun = undefined;
  }

  /** Closes the sockets and stops every timer. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopFreeRun();
    clearInterval(this.idleTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.client?.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
    await new Promise<void>((r) => this.udp.close(() => r()));
  }
}
