// Simulates a CHEC-S camera's TARGET-C modules: one UDP socket per module address, slow-signal readouts, injected faults.
import { createSocket, type Socket } from "node:dgram";
import { TARGET_C_PIXELS, TARGET_C_READOUT_BYTES, encodeReadout, mvToAdc } from "../../codecs/index.js";
import { ErrorCode, HutchError } from "../../core/index.js";
import {
  TargetCSimOptionsSchema,
  moduleAddress,
  type TargetCSimInput,
  type TargetCSimOptions,
} from "./sim-options.js";

/** What the simulator has done so far. */
export interface TargetCSimStats {
  /** Rounds generated (one datagram per sending module each). */
  rounds: number;
  /** Datagrams handed to the kernel, of every kind. */
  datagrams: number;
  /** Good readouts sent (each once; duplicates and corrupted ones are counted apart). */
  readouts: number;
  /** Readouts never sent because their module is in dropModules. */
  dropped: number;
  /** Extra copies of datagrams sent. */
  duplicated: number;
  /** Datagrams held back and sent after the module's next one. */
  reordered: number;
  /** Datagrams sent late by delayModules. */
  delayed: number;
  /** Readouts given an impossible timestamp. */
  corrupted: number;
  /** Garbage datagrams. */
  garbage: number;
  /** Datagrams from the unknown source. */
  strangers: number;
  sendErrors: number;
}

/** Kinds of datagram reported to `onDatagram`. */
export type SimDatagramKind = "data" | "duplicate" | "corrupt" | "garbage" | "stranger";

/** A seeded uniform generator in [0, 1) (mulberry32): the same seed gives the same camera. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const IMPOSSIBLE_NS = 0xffff_ffff_ffff_ffffn;

/**
 * A camera of `modules` TARGET-C modules on one host: module i sends from `sourceBase + i` (every 127.x.y.z is
 * loopback on Linux), `readoutsPerDatagram` readouts per datagram at `rateHz` readouts/s, pixel values as slow
 * random walks in mV. Deterministic for a seed and start time. Drive it with `sendRounds(n)` (tests, benches) or
 * `start()` (paced, real time).
 * @example const sim = await TargetCSim.open({ to: "127.0.0.1:17000", rateHz: 10 }); sim.start(); ...; await sim.close();
 */
export class TargetCSim {
  readonly opts: TargetCSimOptions;
  readonly stats: TargetCSimStats = {
    rounds: 0,
    datagrams: 0,
    readouts: 0,
    dropped: 0,
    duplicated: 0,
    reordered: 0,
    delayed: 0,
    corrupted: 0,
    garbage: 0,
    strangers: 0,
    sendErrors: 0,
  };
  /** Called for every datagram generated (before sending), e.g. to record what was sent. */
  onDatagram: ((module: number, bytes: Buffer, kind: SimDatagramKind) => void) | undefined;
  private readonly host: string;
  private readonly port: number;
  private readonly rand: () => number;
  private readonly mv: Float64Array;
  private readonly words = new Uint16Array(TARGET_C_PIXELS);
  private readonly held: (Buffer | undefined)[];
  private readonly dropped: Set<number>;
  private readonly delayMs: Map<number, number>;
  private readonly periodNs: number;
  private t0Ns = 0n;
  private timers = new Set<NodeJS.Timeout>();
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  private pace: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private closed = false;

  private constructor(
    opts: TargetCSimOptions,
    private readonly sockets: Socket[],
    private readonly stranger: Socket,
  ) {
    this.opts = opts;
    const [host, port] = opts.to.split(":") as [string, string];
    this.host = host;
    this.port = Number(port);
    this.rand = prng(opts.seed);
    this.mv = new Float64Array(opts.modules * TARGET_C_PIXELS);
    for (let i = 0; i < this.mv.length; i++) this.mv[i] = 50 + 350 * this.rand();
    this.held = new Array<Buffer | undefined>(opts.modules);
    this.dropped = new Set(opts.faults.dropModules);
    this.delayMs = new Map(opts.faults.delayModules.map((d) => [d.module, d.delayMs]));
    this.periodNs = 1e9 / opts.rateHz;
    this.t0Ns = opts.startTimeNs !== undefined ? BigInt(opts.startTimeNs) : BigInt(Date.now()) * 1_000_000n;
  }

  /** Validates the options and binds one socket per module address (and one for the stranger). */
  static async open(input: TargetCSimInput): Promise<TargetCSim> {
    const parsed = TargetCSimOptionsSchema.safeParse(input);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new HutchError(
        ErrorCode.Config,
        `target-c simulator: ${i.path.join(".") || "options"}: ${i.message}`,
      );
    }
    const o = parsed.data;
    const bindTo = async (address: string): Promise<Socket> => {
      const s = createSocket("udp4");
      await new Promise<void>((resolve, reject) => {
        s.once("error", (err) =>
          reject(
            new HutchError(ErrorCode.Io, `target-c simulator: cannot bind ${address}: ${err.message}`, {
              cause: err,
            }),
          ),
        );
        s.bind(0, address, () => resolve());
      });
      return s;
    };
    const sockets: Socket[] = [];
    try {
      for (let m = 0; m < o.modules; m++) sockets.push(await bindTo(moduleAddress(o.sourceBase, m)));
      const stranger = await bindTo(o.strangerAddress);
      return new TargetCSim(o, sockets, stranger);
    } catch (err) {
      for (const s of sockets) s.close();
      throw err;
    }
  }

  /** The first readout's timestamp (ns). */
  get startTimeNs(): bigint {
    return this.t0Ns;
  }

  /** Sends the next `n` rounds at once; resolves when the kernel took them (delayed datagrams may still follow). */
  async sendRounds(n: number): Promise<void> {
    for (let i = 0; i < n && !this.closed; i++) this.round();
    await this.sent();
  }

  /** Resolves when every datagram handed over so far, delayed ones included, has left. */
  sent(): Promise<void> {
    if (this.pending === 0 && this.timers.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Sends in real time at `rateHz` until stop(), close(), or `rounds`/`durationMs` is reached. */
  start(onDone?: () => void): void {
    if (this.pace || this.closed) return;
    const roundMs = (this.opts.readoutsPerDatagram * 1000) / this.opts.rateHz;
    const startMs = performance.now();
    const firstRound = this.stats.rounds;
    const limit = this.opts.rounds;
    const tick = () => {
      this.pace = undefined;
      const now = performance.now();
      const done =
        (limit !== undefined && this.stats.rounds >= limit) ||
        (this.opts.durationMs ?? Infinity) <= now - startMs;
      if (done || this.closed) {
        onDone?.();
        return;
      }
      const due = firstRound + Math.floor((now - startMs) / roundMs) + 1;
      let burst = 0;
      while (this.stats.rounds < due && burst++ < 256 && (limit === undefined || this.stats.rounds < limit))
        this.round();
      this.pace =
        this.stats.rounds < due
          ? setImmediate(tick)
          : setTimeout(
              tick,
              Math.max(0, startMs + (this.stats.rounds - firstRound) * roundMs - performance.now()),
            );
    };
    tick();
  }

  /** Stops paced sending and sends datagrams held for reordering. */
  async stop(): Promise<void> {
    if (this.pace) {
      clearTimeout(this.pace as NodeJS.Timeout);
      clearImmediate(this.pace as NodeJS.Immediate);
      this.pace = undefined;
    }
    for (let m = 0; m < this.held.length; m++) {
      const h = this.held[m];
      this.held[m] = undefined;
      if (h) this.send(m, h);
    }
    await this.sent();
  }

  /** Stops and closes every socket; pending delayed datagrams are abandoned. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.stop();
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all(
      [...this.sockets, this.stranger].map((s) => new Promise<void>((r) => s.close(() => r()))),
    );
    this.wake();
  }

  private round(): void {
    const o = this.opts;
    const f = o.faults;
    const K = o.readoutsPerDatagram;
    const first = this.stats.rounds * K;
    this.stats.rounds++;
    for (let m = 0; m < o.modules; m++) {
      if (this.dropped.has(m)) {
        this.stats.dropped += K;
        continue;
      }
      const buf = this.datagram(m, first, K);
      let kind: SimDatagramKind = "data";
      if (f.corrupt > 0 && this.rand() < f.corrupt) {
        buf.writeBigUInt64BE(IMPOSSIBLE_NS, 0);
        this.stats.corrupted++;
        this.stats.readouts += K - 1;
        kind = "corrupt";
      } else this.stats.readouts += K;
      this.onDatagram?.(m, buf, kind);
      this.dispatch(m, buf);
      if (f.duplicate > 0 && this.rand() < f.duplicate) {
        this.stats.duplicated++;
        this.onDatagram?.(m, buf, "duplicate");
        this.dispatch(m, buf);
      }
      if (f.garbage > 0 && this.rand() < f.garbage) {
        let len = 1 + Math.floor(this.rand() * 1500);
        if (len % TARGET_C_READOUT_BYTES === 0) len++;
        const junk = Buffer.alloc(len);
        for (let i = 0; i < len; i++) junk[i] = Math.floor(this.rand() * 256);
        this.stats.garbage++;
        this.onDatagram?.(m, junk, "garbage");
        this.send(m, junk);
      }
    }
    if (f.unknownSource > 0 && this.rand() < f.unknownSource) {
      const buf = this.datagram(0, first, K);
      this.stats.strangers++;
      this.onDatagram?.(-1, buf, "stranger");
      this.send(-1, buf);
    }
  }

  /** Module m's readouts first..first+K-1: timestamps on the common clock plus jitter, pixels as random walks. */
  private datagram(m: number, first: number, K: number): Buffer {
    const buf = Buffer.allocUnsafe(K * TARGET_C_READOUT_BYTES);
    const mv = this.mv;
    for (let j = 0; j < K; j++) {
      const ts =
        this.t0Ns +
        BigInt(Math.round((first + j) * this.periodNs)) +
        BigInt(Math.floor(this.rand() * this.opts.jitterNs));
      for (let i = 0; i < TARGET_C_PIXELS; i++) {
        const k = m * TARGET_C_PIXELS + i;
        mv[k] = Math.min(2000, Math.max(0, mv[k]! + (this.rand() - 0.5) * 8));
        this.words[i] = mvToAdc(mv[k]!);
      }
      encodeReadout(buf, j * TARGET_C_READOUT_BYTES, ts, ts + 250n, this.words);
    }
    return buf;
  }

  /** Applies delay and reorder faults, then sends. */
  private dispatch(m: number, buf: Buffer): void {
    const delay = this.delayMs.get(m);
    if (delay !== undefined) {
      this.stats.delayed++;
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (!this.closed) this.send(m, buf);
        this.wake();
      }, delay);
      this.timers.add(t);
      return;
    }
    const held = this.held[m];
    if (held) {
      this.held[m] = undefined;
      this.send(m, buf);
      this.send(m, held);
    } else if (this.opts.faults.reorder > 0 && this.rand() < this.opts.faults.reorder) {
      this.stats.reordered++;
      this.held[m] = buf;
    } else this.send(m, buf);
  }

  private send(m: number, buf: Buffer): void {
    const s = m < 0 ? this.stranger : this.sockets[m]!;
    this.pending++;
    this.stats.datagrams++;
    s.send(buf, this.port, this.host, (err) => {
      this.pending--;
      if (err) this.stats.sendErrors++;
      this.wake();
    });
  }

  private wake(): void {
    if (this.pending === 0 && this.timers.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
