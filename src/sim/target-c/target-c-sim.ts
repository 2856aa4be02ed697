// Simulates a CHEC-S camera's TARGET-C modules: one UDP socket per module address, slow-signal readouts, injected faults.
import { createSocket, type Socket } from "node:dgram";
import {
  TARGET_C_MV_PER_COUNT,
  TARGET_C_PIXELS,
  TARGET_C_READOUT_BYTES,
  encodeReadout,
} from "../../codecs/index.js";
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

/** A seeded generator of 32-bit unsigned integers (mulberry32): the same seed gives the same camera. */
function prng32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Pixel random walk: at most +-4 mV per readout, kept within 0..2000 mV; held in ADC counts (0.0763 mV each). */
const STEP_COUNTS = 4 / TARGET_C_MV_PER_COUNT / 128;
const MAX_COUNTS = Math.floor(2000 / TARGET_C_MV_PER_COUNT);

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
  private readonly u32: () => number;
  /** Uniform in [0, 1). */
  private readonly rand: () => number;
  /** Each pixel's value in ADC counts. */
  private readonly counts: Float64Array;
  private readonly words = new Uint16Array(TARGET_C_PIXELS);
  private readonly held: (Buffer | undefined)[];
  private readonly dropped: Set<number>;
  private readonly delayMs: Map<number, number>;
  private readonly periodNs: number;
  private readonly auxIsSendTime: boolean;
  private frozen: boolean;
  private readonly templates: (Buffer | undefined)[] = [];
  private t0Ns = 0n;
  private t0Hi = 0;
  private t0Lo = 0;
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
    const u32 = prng32(opts.seed);
    this.u32 = u32;
    this.rand = () => u32() / 4294967296;
    this.counts = new Float64Array(opts.modules * TARGET_C_PIXELS);
    for (let i = 0; i < this.counts.length; i++)
      this.counts[i] = (50 + 350 * this.rand()) / TARGET_C_MV_PER_COUNT;
    this.held = new Array<Buffer | undefined>(opts.modules);
    this.dropped = new Set(opts.faults.dropModules);
    this.delayMs = new Map(opts.faults.delayModules.map((d) => [d.module, d.delayMs]));
    this.periodNs = 1e9 / opts.rateHz;
    this.auxIsSendTime = opts.auxTimestamp === "send-monotonic";
    this.frozen = opts.pixels === "frozen";
    this.t0Ns = opts.startTimeNs !== undefined ? BigInt(opts.startTimeNs) : BigInt(Date.now()) * 1_000_000n;
    this.t0Hi = Number(this.t0Ns >> 32n);
    this.t0Lo = Number(this.t0Ns & 0xffff_ffffn);
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
    if (this.frozen) return this.frozenDatagram(m, first, K);
    const buf = Buffer.allocUnsafe(K * TARGET_C_READOUT_BYTES);
    const counts = this.counts;
    const words = this.words;
    for (let j = 0; j < K; j++) {
      // one 32-bit draw moves four pixels (a signed byte each)
      for (let i = 0, k = m * TARGET_C_PIXELS; i < TARGET_C_PIXELS; i += 4) {
        const r = this.u32();
        for (let b = 0; b < 32; b += 8, k++) {
          let v = counts[k]! + (((r >>> b) & 0xff) - 127.5) * STEP_COUNTS;
          v = v < 0 ? 0 : v > MAX_COUNTS ? MAX_COUNTS : v;
          counts[k] = v;
          words[i + (b >>> 3)] = Math.round(v) ^ 0x8000;
        }
      }
      encodeReadout(buf, j * TARGET_C_READOUT_BYTES, 1n, 1n, words);
    }
    this.stampTimes(buf, first, K);
    return buf;
  }

  /** Frozen pixels: a copy of the module's first datagram with new timestamps. */
  private frozenDatagram(m: number, first: number, K: number): Buffer {
    let tpl = this.templates[m];
    if (!tpl) {
      this.frozen = false;
      tpl = this.templates[m] = this.datagram(m, first, K);
      this.frozen = true;
    }
    const buf = Buffer.allocUnsafe(tpl.length);
    tpl.copy(buf);
    this.stampTimes(buf, first, K);
    return buf;
  }

  /**
   * Writes readout j's timestamps: t0 + (first+j) periods + jitter, and aux = that + 250 ns (or the send time).
   * Arithmetic on 32-bit halves in float64 (exact below 2^53 ns of offset): no bigint per readout.
   */
  private stampTimes(buf: Buffer, first: number, K: number): void {
    const send = this.auxIsSendTime ? process.hrtime.bigint() : 0n;
    for (let j = 0; j < K; j++) {
      const o = j * TARGET_C_READOUT_BYTES;
      const lo =
        this.t0Lo + Math.round((first + j) * this.periodNs) + Math.floor(this.rand() * this.opts.jitterNs);
      const carry = Math.floor(lo / 4294967296);
      buf.writeUInt32BE((this.t0Hi + carry) >>> 0, o);
      buf.writeUInt32BE(lo - carry * 4294967296, o + 4);
      if (this.auxIsSendTime) buf.writeBigUInt64BE(send, o + 72);
      else {
        const alo = lo + 250;
        const acarry = Math.floor(alo / 4294967296);
        buf.writeUInt32BE((this.t0Hi + acarry) >>> 0, o + 72);
        buf.writeUInt32BE(alo - acarry * 4294967296, o + 76);
      }
    }
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
