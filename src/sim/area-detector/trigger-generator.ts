// A trigger generator: sends numbered trigger pulses over UDP to a detector's trigger input at a set rate.
import { createSocket, type Socket } from "node:dgram";
import { TriggerGeneratorOptionsSchema, type TriggerGeneratorInput } from "./sim-options.js";

/** `HTRG` as a little-endian uint32: the first bytes of a trigger datagram. */
export const TRIGGER_MAGIC = 0x47525448;
/** Bytes of a trigger datagram: magic, trigger number, flags (bit 0: beam), reserved. */
export const TRIGGER_BYTES = 16;

/** Encodes one trigger pulse. */
export function encodeTrigger(n: number, shot: boolean): Buffer {
  const b = Buffer.alloc(TRIGGER_BYTES);
  b.writeUInt32LE(TRIGGER_MAGIC, 0);
  b.writeUInt32LE(n >>> 0, 4);
  b.writeUInt32LE(shot ? 1 : 0, 8);
  return b;
}

/** Decodes a trigger pulse, or undefined when the datagram is not one. */
export function decodeTrigger(b: Buffer): { n: number; shot: boolean } | undefined {
  if (b.length !== TRIGGER_BYTES || b.readUInt32LE(0) !== TRIGGER_MAGIC) return undefined;
  return { n: b.readUInt32LE(4), shot: (b.readUInt32LE(8) & 1) === 1 };
}

/**
 * Sends triggers 1, 2, 3... at `rateHz` (or one by one with `pulse()`); `shots` and `shotEvery` say which carry beam.
 * @example const tg = await TriggerGenerator.open({ to: "127.0.0.1:5701", rateHz: 5, shots: [12] }); tg.start();
 */
export class TriggerGenerator {
  /** Triggers sent so far (= the number of the last one). */
  sent = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly o: ReturnType<typeof TriggerGeneratorOptionsSchema.parse>;
  private readonly host: string;
  private readonly port: number;

  private constructor(
    private readonly socket: Socket,
    input: TriggerGeneratorInput,
  ) {
    this.o = TriggerGeneratorOptionsSchema.parse(input);
    const [h, p] = this.o.to.split(":");
    this.host = h!;
    this.port = Number(p);
  }

  /** Opens the sending socket. */
  static async open(input: TriggerGeneratorInput): Promise<TriggerGenerator> {
    const s = createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
    return new TriggerGenerator(s, input);
  }

  /** True when trigger `n` carries beam. */
  isShot(n: number): boolean {
    return this.o.shots.includes(n) || (this.o.shotEvery !== undefined && n % this.o.shotEvery === 0);
  }

  /** Sends the next trigger now; resolves once it left. */
  async pulse(): Promise<number> {
    const n = ++this.sent;
    await new Promise<void>((resolve, reject) =>
      this.socket.send(encodeTrigger(n, this.isShot(n)), this.port, this.host, (e) =>
        e ? reject(e) : resolve(),
      ),
    );
    return n;
  }

  /** Sends at `rateHz` until `stop()` (or `count` triggers); `onDone` runs after the last one. */
  start(onDone?: () => void): void {
    this.stop();
    const period = 1000 / this.o.rateHz;
    const t0 = performance.now();
    const first = this.sent;
    const tick = () => {
      if (this.o.count !== undefined && this.sent - first >= this.o.count) {
        this.timer = undefined;
        onDone?.();
        return;
      }
      void this.pulse();
      const k = this.sent - first;
      this.timer = setTimeout(tick, Math.max(0, t0 + k * period - performance.now()));
    };
    tick();
  }

  /** Stops sending (a test's "the trigger stops"). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stops and closes the socket. */
  async close(): Promise<void> {
    this.stop();
    await new Promise<void>((r) => this.socket.close(() => r()));
  }
}
