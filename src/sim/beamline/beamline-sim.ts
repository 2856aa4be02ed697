// The beamline simulator: tags at 30 Hz with I0, beam status, a delay motor and MPCCD-like frames, pushed over ZeroMQ.
import { Push } from "zeromq";
import { ErrorCode, HutchError, seededRng, type Rng } from "../../core/index.js";
import { encodeTagMessage, type DetectorReading, type TagMessage } from "../../sources/index.js";
import { DetectorSynth } from "./frame-synth.js";
import { BeamlineSimOptionsSchema, type BeamlineSimInput, type BeamlineSimOptions } from "./sim-options.js";

/** What the simulator did so far. */
export interface BeamlineSimStats {
  /** Tags generated (sent or dropped). */
  tags: number;
  /** Tags handed to ZeroMQ. */
  sent: number;
  /** Tags dropped because the receiver was slow or absent (ZeroMQ queue full). */
  dropped: number;
  /** Frames sent, all detectors. */
  frames: number;
  /** Pulses skipped because the simulator itself fell behind the tag clock. */
  lateTicks: number;
  sendErrors: number;
}

/** A detector fault in force: no entry at all, or an entry with an error instead of a frame. */
export type FaultMode = "absent" | "error";

/**
 * Generates tags in real time (timers, no busy wait) and pushes one message per tag to the beamline source.
 * A slow or absent receiver never blocks it: tags past the ZeroMQ queue are dropped and counted, as a beamline
 * would. Detectors can be made to fail (`fail`) and come back (`restore`), or fail on a schedule (`faults`).
 * @example
 * const sim = await BeamlineSim.open({ to: "tcp://127.0.0.1:5580" });
 * sim.start(); ...; await sim.stop(); await sim.close();
 */
export class BeamlineSim {
  readonly stats: BeamlineSimStats = { tags: 0, sent: 0, dropped: 0, frames: 0, lateTicks: 0, sendErrors: 0 };
  /** The next tag number (continues across start/stop). */
  nextTag: number;
  private readonly rng: Rng;
  private readonly synths: DetectorSynth[];
  private readonly failed = new Map<string, FaultMode>();
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly opts: BeamlineSimOptions,
    private readonly push: Push,
  ) {
    this.rng = seededRng(opts.seed);
    this.synths = opts.detectors.map((d) => new DetectorSynth(d, this.rng));
    this.nextTag = opts.firstTag;
  }

  /** Validates the options and connects to the source (which may come up later: tags queue, then drop). */
  static async open(input: BeamlineSimInput): Promise<BeamlineSim> {
    const opts = BeamlineSimOptionsSchema.parse(input);
    // linger: tags still queued at close (the last ones of a `--tags N` run) get 1 s to leave.
    const push = new Push({ linger: 1000, sendHighWaterMark: opts.sendHighWaterMark, sendTimeout: 0 });
    try {
      push.connect(opts.to);
    } catch (cause) {
      push.close();
      throw new HutchError(ErrorCode.Io, `sim beamline: cannot connect to '${opts.to}'`, { cause });
    }
    return new BeamlineSim(opts, push);
  }

  /** Makes a detector fail from the next tag on. */
  fail(detector: string, mode: FaultMode = "absent"): void {
    this.known(detector);
    this.failed.set(detector, mode);
  }

  /** Brings a failed detector back. */
  restore(detector: string): void {
    this.known(detector);
    this.failed.delete(detector);
  }

  /** Detectors failing now, with their mode. */
  faults(): Record<string, FaultMode> {
    return Object.fromEntries(this.failed);
  }

  /** Starts sending; `onDone` is called when `opts.tags` tags were generated. */
  start(onDone?: () => void): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run(onDone);
  }

  /** Stops after the tag being sent; resolves once nothing more will be sent. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
  }

  async close(): Promise<void> {
    await this.stop();
    this.push.close();
  }

  /** Builds the message of the next tag (exposed for tests and benches; `start` calls it per pulse). */
  makeTag(elapsedS: number): TagMessage {
    const o = this.opts;
    for (const f of o.faults)
      if (elapsedS >= f.afterS && !this.failed.has(f.detector)) this.fail(f.detector, f.mode);
    const r = this.rng;
    const beam = r.uniform() >= o.beamOffFraction;
    const i0 = beam ? Math.max(0.001, o.i0Mean * (1 + 0.3 * r.normal())) : 0.002 * Math.abs(r.normal());
    const wanted = o.scanPs[0] + (o.scanPs[1] - o.scanPs[0]) * r.uniform();
    const position = Math.round((wanted + o.t0Ps) / o.delayScale);
    const delay = position * o.delayScale - o.t0Ps;
    const detectors: DetectorReading[] = [];
    for (const s of this.synths) {
      const mode = this.failed.get(s.d.name);
      if (mode === "absent") continue;
      if (mode === "error") {
        detectors.push({
          name: s.d.name,
          status: "error",
          gain: s.d.gain,
          message: "readout timeout (simulated)",
        });
        continue;
      }
      const { frame } = s.frame(beam ? i0 : 0, delay);
      detectors.push({
        name: s.d.name,
        status: "ok",
        gain: s.d.gain,
        frame: { dtype: "float32", shape: [s.d.height, s.d.width], data: frame },
      });
    }
    const tag = this.nextTag;
    this.nextTag += o.tagStep;
    return {
      tag,
      time: Date.now() / 1000,
      points: { i0, beam_status: beam ? 1 : 0, delay_motor: position },
      detectors,
    };
  }

  private known(detector: string): void {
    if (!this.opts.detectors.some((d) => d.name === detector)) {
      const names = this.opts.detectors.map((d) => d.name).join(", ");
      throw new HutchError(
        ErrorCode.Validation,
        `sim beamline: no detector '${detector}' (detectors: ${names})`,
      );
    }
  }

  private async run(onDone?: () => void): Promise<void> {
    const periodMs = 1000 / this.opts.rateHz;
    const t0 = performance.now();
    let k = 0;
    while (this.running) {
      const wait = t0 + k * periodMs - performance.now();
      // Always through the timer queue, even when behind: a loop that only awaits resolved promises would
      // starve every timer of the process (heartbeats included) on a busy machine.
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, Math.max(0, wait));
      });
      if (!this.running) break;
      const due = Math.floor((performance.now() - t0) / periodMs);
      if (due > k + 1) {
        // Behind the tag clock: those pulses happened without us, as tags never wait at a beamline.
        this.stats.lateTicks += due - k - 1;
        this.nextTag += (due - k - 1) * this.opts.tagStep;
        k = due - 1;
      }
      await this.send(this.makeTag((performance.now() - t0) / 1000));
      k++;
      if (this.opts.tags !== undefined && this.stats.tags >= this.opts.tags) {
        this.running = false;
        onDone?.();
      }
    }
  }

  private async send(msg: TagMessage): Promise<void> {
    this.stats.tags++;
    try {
      await this.push.send(encodeTagMessage(this.opts.instrument, msg));
      this.stats.sent++;
      this.stats.frames += msg.detectors.filter((d) => d.frame).length;
    } catch (err) {
      if ((err as { code?: string }).code === "EAGAIN") this.stats.dropped++;
      else if (!this.push.closed) this.stats.sendErrors++;
    }
  }
}
