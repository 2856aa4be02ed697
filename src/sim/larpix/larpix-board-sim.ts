// A simulated LArPix data board: REP command socket (SNDWORD, SYRESET, SETFREQ, SETFTST, GETSTAT, PING_HB) and PUB data.
import { Publisher, Reply } from "zeromq";
import {
  LARPIX_CHANNELS,
  LARPIX_TYPE,
  encodeDataMessage,
  encodeHeartbeatMessage,
  encodePacket,
  encodeTimestampMessage,
  fieldsOf,
  parseSndwordHex,
  readWord,
} from "../../codecs/index.js";
import { ErrorCode, HutchError, toHutchError } from "../../core/index.js";
import { attachSocket } from "../../transport/index.js";
import { PackedPackets, SimChip, SimRng, pushDataPacket } from "./sim-chips.js";
import { parseSimOptions, type LarpixBoardSimInput, type LarpixBoardSimOptions } from "./sim-options.js";

/** What a simulated board has done. */
export interface LarpixBoardSimStats {
  packets: number;
  dataMessages: number;
  timestampMessages: number;
  heartbeats: number;
  garbageMessages: number;
  badParityPackets: number;
  commands: number;
  configWrites: number;
  configReads: number;
  resets: number;
  unknownCommands: number;
}

const GARBAGE = [
  Uint8Array.of(1, 0, 0x44), // shorter than a header
  Uint8Array.of(9, 0, 0x44, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 0), // wrong major version
  Uint8Array.of(1, 0, 0x5a, 1, 0, 0, 0, 0), // unknown kind 'Z'
  Uint8Array.of(1, 0, 0x44, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5), // payload not whole words
];

/**
 * One simulated board speaking larpix-control's ZMQ protocol: commands on a REP socket (`commandPort`), data
 * messages on a PUB socket (`dataPort`). Chips answer config reads with config-read packets on the data socket,
 * self-trigger at `rateHz` (unless their global threshold is 255), and the forced trigger (`SETFTST` divisor >
 * 0) samples every channel whose external trigger mask bit is 0 at CLK2X / divisor Hz. Timestamps count a 5 MHz
 * clock from the last `SYRESET` in 24 bits. `hang()` makes it stop answering and sending, as a dead board.
 * @example const sim = await LarpixBoardSim.open({ commandPort: 0, dataPort: 0 }); ...; await sim.close();
 */
export class LarpixBoardSim {
  readonly stats: LarpixBoardSimStats = {
    packets: 0,
    dataMessages: 0,
    timestampMessages: 0,
    heartbeats: 0,
    garbageMessages: 0,
    badParityPackets: 0,
    commands: 0,
    configWrites: 0,
    configReads: 0,
    resets: 0,
    unknownCommands: 0,
  };
  /** Every message sent on the data socket, when `record` is set (tests compare files against it). */
  readonly sent: Buffer[] = [];
  readonly chips: SimChip[];
  clockKHz: number;
  testPulseDivisor = 0;
  private resetAtMs = performance.now();
  private lastTickMs = performance.now();
  private triggerCarry = 0;
  private readonly rng: SimRng;
  private readonly packed = new PackedPackets();
  private readonly timers: NodeJS.Timeout[] = [];
  private sendChain: Promise<void> = Promise.resolve();
  private hung = false;
  private closed = false;
  private serving: Promise<void> | undefined;
  private sentPerChannel = 0;

  private constructor(
    readonly opts: LarpixBoardSimOptions,
    private readonly rep: Reply,
    private readonly pub: Publisher,
    /** The bound command address (`tcp://host:port`). */
    readonly commandAddress: string,
    /** The bound data address. */
    readonly dataAddress: string,
  ) {
    this.rng = new SimRng(opts.seed);
    this.chips = opts.chips.map((id) => new SimChip(id, this.rng));
    this.clockKHz = opts.clockKHz;
  }

  /** Binds both sockets and starts the timers. Throws HUTCH_ERR_IO naming the address when a port is taken. */
  static async open(input: LarpixBoardSimInput = {}): Promise<LarpixBoardSim> {
    const o = parseSimOptions(input);
    const rep = new Reply({ linger: 0 });
    const pub = new Publisher({ linger: 0, sendHighWaterMark: 100_000 });
    let cmd: string;
    let data: string;
    try {
      cmd = await attachSocket(rep, `tcp://${o.host}:${o.commandPort}`, "bind");
      data = await attachSocket(pub, `tcp://${o.host}:${o.dataPort}`, "bind");
    } catch (err) {
      rep.close();
      pub.close();
      throw err;
    }
    const sim = new LarpixBoardSim(o, rep, pub, cmd, data);
    sim.serving = sim.serve();
    const every = (ms: number, fn: () => void) => {
      if (ms <= 0) return;
      const t = setInterval(fn, ms);
      t.unref();
      sim.timers.push(t);
    };
    every(o.messageIntervalMs, () => sim.tick());
    every(o.timestampIntervalMs, () =>
      sim.send(encodeTimestampMessage(Math.floor(Date.now() / 1000)), "timestamp"),
    );
    every(o.heartbeatIntervalMs, () => sim.send(encodeHeartbeatMessage(), "heartbeat"));
    return sim;
  }

  /** The pedestal (ADC counts) of a chip's channel, the truth a calibration should find. */
  pedestalOf(chipId: number, channel: number): { mean: number; rms: number } {
    const c = this.chip(chipId);
    if (!c) throw new HutchError(ErrorCode.Validation, `simulator has no chip ${chipId}`);
    return { mean: c.pedestal[channel]!, rms: c.noise[channel]! };
  }

  /**
   * Sends `n` self-triggered data packets now in one message (also in manual mode); resolves once sent, with their
   * 7-byte packets back to back.
   */
  async emit(n: number): Promise<Uint8Array> {
    const p = new PackedPackets();
    const now = performance.now();
    this.selfTriggered(p, n, now, now);
    const bytes = p.bytes.slice(0, 7 * p.count);
    await this.sendPacked(p);
    return bytes;
  }

  /**
   * Sends `n` garbage messages now, cycling through: shorter than a header, wrong major version, unknown kind,
   * payload not whole words. Resolves once sent.
   */
  async emitGarbage(n: number): Promise<void> {
    for (let k = 0; k < n; k++)
      this.send(Buffer.from(GARBAGE[this.stats.garbageMessages % GARBAGE.length]!), "garbage");
    await this.sendChain;
  }

  /** Stops answering commands and sending anything, as a board that lost power or hung. */
  hang(): void {
    this.hung = true;
  }

  /** Resolves once every message queued so far has been handed to the socket. */
  async flushed(): Promise<void> {
    await this.sendChain;
  }

  /** Stops timers and closes both sockets. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await this.sendChain.catch(() => undefined);
    this.rep.close();
    this.pub.close();
    await this.serving?.catch(() => undefined);
  }

  private chip(id: number): SimChip | undefined {
    return this.chips.find((c) => c.id === id);
  }

  /** One message interval: self-triggered packets at `rateHz` and forced-trigger samples. */
  private tick(): void {
    const now = performance.now();
    const from = this.lastTickMs;
    this.lastTickMs = now;
    if (this.hung) return;
    const p = this.packed;
    p.clear();
    this.forcedTriggers(p, from, now);
    if (!this.opts.manual)
      this.selfTriggered(p, this.rng.poisson((this.opts.rateHz * (now - from)) / 1000), from, now);
    if (p.count > 0) void this.sendPacked(p);
    if (this.opts.garbageFraction > 0 && this.rng.next() < this.opts.garbageFraction) {
      this.send(Buffer.from(GARBAGE[this.stats.garbageMessages % GARBAGE.length]!), "garbage");
    }
  }

  private selfTriggered(p: PackedPackets, n: number, from: number, to: number): void {
    const live = this.chips.filter((c) => c.selfTriggering);
    if (live.length === 0) return;
    for (let k = 0; k < n; k++) {
      const chip = live[this.rng.int(live.length)]!;
      const channel = this.rng.int(LARPIX_CHANNELS);
      if (!chip.enabled(channel)) continue;
      const t = from + ((k + 0.5) / n) * (to - from);
      const signal = -this.opts.signalMeanAdc * Math.log(1 - this.rng.next());
      pushDataPacket(p, chip, channel, t, this.resetAtMs, signal, this.rng, this.opts.badParityFraction);
    }
  }

  private forcedTriggers(p: PackedPackets, from: number, to: number): void {
    if (this.testPulseDivisor <= 0) return;
    const hz = (this.clockKHz * 1000) / this.testPulseDivisor;
    this.triggerCarry += (hz * (to - from)) / 1000;
    const n = Math.floor(this.triggerCarry);
    this.triggerCarry -= n;
    for (let k = 0; k < n; k++) {
      const t = from + ((k + 1) / n) * (to - from);
      for (const chip of this.chips) {
        for (let c = 0; c < LARPIX_CHANNELS; c++) {
          if (chip.enabled(c) && chip.forced(c)) {
            pushDataPacket(p, chip, c, t, this.resetAtMs, 0, this.rng, this.opts.badParityFraction);
          }
        }
      }
    }
  }

  private async sendPacked(p: PackedPackets): Promise<void> {
    const max = this.opts.maxWordsPerMessage;
    for (let start = 0; start < p.count; start += max) {
      const n = Math.min(max, p.count - start);
      const bytes = p.bytes.subarray(7 * start, 7 * (start + n));
      for (let k = 0; k < n; k++) {
        if (!fieldsOf(readWord(bytes, 7 * k)).validParity) this.stats.badParityPackets++;
      }
      this.stats.packets += n;
      this.sentPerChannel += n;
      this.send(encodeDataMessage(this.opts.ioChannel, bytes, n), "data");
    }
    await this.sendChain;
  }

  private send(msg: Buffer, kind: "data" | "timestamp" | "heartbeat" | "garbage"): void {
    if (this.hung || this.closed) return;
    if (kind === "data") this.stats.dataMessages++;
    else if (kind === "timestamp") this.stats.timestampMessages++;
    else if (kind === "heartbeat") this.stats.heartbeats++;
    else this.stats.garbageMessages++;
    if (this.opts.record) this.sent.push(Buffer.from(msg));
    this.sendChain = this.sendChain
      .then(() => (this.closed ? undefined : this.pub.send(msg)))
      .catch(() => undefined);
  }

  /** The REP loop: one reply per command, until closed (a hung board keeps its last request unanswered). */
  private async serve(): Promise<void> {
    for await (const [frame] of this.rep) {
      if (this.hung) break;
      const reply = this.handle((frame ?? Buffer.alloc(0)).toString("latin1").trim());
      if (this.hung) break;
      await this.rep.send(reply);
    }
  }

  private handle(line: string): string {
    this.stats.commands++;
    const [cmd = "", ...args] = line.split(/\s+/);
    try {
      switch (cmd) {
        case "PING_HB":
          return "OK";
        case "SYRESET":
          this.stats.resets++;
          for (const c of this.chips) c.reset();
          this.resetAtMs = performance.now();
          this.testPulseDivisor = 0;
          return "OK";
        case "SETFREQ":
          this.clockKHz = hexArg(args[0], "SETFREQ");
          return "OK";
        case "SETFTST":
          this.testPulseDivisor = hexArg(args[0], "SETFTST");
          this.triggerCarry = 0;
          return "OK";
        case "GETSTAT":
          return `${this.sentPerChannel} packets on io channel ${Number(args[0] ?? this.opts.ioChannel)}`;
        case "SNDWORD":
          return this.word(args[0] ?? "", Number(args[1] ?? 0));
        default:
          this.stats.unknownCommands++;
          return `ERR unknown command '${cmd}'`;
      }
    } catch (err) {
      return `ERR ${toHutchError(err).message}`;
    }
  }

  /** A packet sent to the chips: config writes set a register; config reads answer on the data socket. */
  private word(hex: string, ioChannel: number): string {
    const f = fieldsOf(readWord(parseSndwordHex(hex)));
    const chip = ioChannel === this.opts.ioChannel ? this.chip(f.chipId) : undefined;
    if (!chip || !f.validParity) return "OK"; // no chip listens: the word is lost on the wire, as on hardware
    if (f.type === LARPIX_TYPE.configWrite && f.register! < chip.registers.length) {
      this.stats.configWrites++;
      chip.registers[f.register!] = f.value!;
    } else if (f.type === LARPIX_TYPE.configRead && f.register! < chip.registers.length) {
      this.stats.configReads++;
      const bytes = encodePacket({
        type: 3,
        chipId: chip.id,
        register: f.register!,
        value: chip.registers[f.register!]!,
      });
      this.stats.packets++;
      this.send(encodeDataMessage(this.opts.ioChannel, bytes, 1), "data");
    }
    return "OK";
  }
}

function hexArg(s: string | undefined, cmd: string): number {
  const v = s === undefined ? NaN : Number(s);
  if (!Number.isInteger(v) || v < 0)
    throw new HutchError(ErrorCode.Validation, `${cmd}: expected a hex number like 0x2710, got '${s}'`);
  return v;
}
