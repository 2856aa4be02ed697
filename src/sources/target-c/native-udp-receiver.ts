// A UDP receiver read by the native addon (recvmmsg, one JavaScript call per batch of datagrams), when it is built.
import { lookup } from "node:dns/promises";
import { isIPv4 } from "node:net";
import { nativeAddon, type NativeUdpSocket } from "../../core/index.js";
import { bindError, checkRecvBuffer, type UdpBindOptions } from "./udp-receiver.js";

/** Bytes between two datagrams of a batch (every IPv4 UDP payload fits). */
export const UDP_SLOT_BYTES = 65536;
/** Datagrams read per batch at most (8 MiB of address space; only the bytes written are ever touched). */
export const UDP_BATCH_DATAGRAMS = 128;

/**
 * The datagrams of one batch, valid until `onBatch` returns: datagram i is `length(i)` bytes at byte
 * `i * UDP_SLOT_BYTES` of `bytes` (4-byte aligned, so `words` reads it 32 bits at a time), from `address(i)`.
 */
export class UdpBatch {
  readonly bytes = new Uint8Array(UDP_SLOT_BYTES * UDP_BATCH_DATAGRAMS);
  /** Host-order 32-bit view of `bytes`. */
  readonly words = new Uint32Array(this.bytes.buffer);
  /** Per datagram: length, IPv4 source (host-order uint32), source port, 1 when truncated. */
  readonly meta = new Uint32Array(4 * UDP_BATCH_DATAGRAMS);
  /** When each datagram was read (unix ms). */
  readonly timeMs = new Float64Array(UDP_BATCH_DATAGRAMS);

  /** Bytes of datagram i (a datagram longer than its slot reads as too long to be valid). */
  length(i: number): number {
    return this.meta[4 * i + 3] ? UDP_SLOT_BYTES : this.meta[4 * i]!;
  }

  /** Source address of datagram i as a host-order uint32 (a.b.c.d = a << 24 | ... | d). */
  address(i: number): number {
    return this.meta[4 * i + 1]!;
  }
}

/** Options of a NativeUdpReceiver. */
export interface NativeUdpReceiverOptions extends UdpBindOptions {
  /** Called once per batch with the number of datagrams in `batch`; must not keep views of it. */
  readonly onBatch: (batch: UdpBatch, count: number) => void;
  // `host` is an IPv4 address or a name resolving to one; `onError` also gets what onBatch threw.
}

/**
 * The native twin of UdpReceiver: the same binding, buffer check and warning, but the addon owns the socket and
 * drains it with recvmmsg into one `UdpBatch`, calling `onBatch` once per batch instead of once per datagram.
 * `available()` says whether the addon is built (and not disabled with `HUTCH_NATIVE=0`).
 * @example const rx = await NativeUdpReceiver.open({ host: "0.0.0.0", port: 17000, recvBufferBytes: 8 << 20, onBatch, onError, log });
 */
export class NativeUdpReceiver {
  private constructor(
    private readonly socket: NativeUdpSocket,
    /** The bound port. */
    readonly port: number,
    /** The receive buffer the kernel reports (bytes). */
    readonly recvBufferBytes: number,
    /** True when the kernel granted less than asked. */
    readonly bufferShort: boolean,
  ) {}

  /** True when the native receive path can be used. */
  static available(): boolean {
    return typeof nativeAddon?.udpRecvOpen === "function" && typeof nativeAddon.targetCDecode === "function";
  }

  /** Binds the socket; rejects with HUTCH_ERR_IO naming the address when binding fails. */
  static async open(opts: NativeUdpReceiverOptions): Promise<NativeUdpReceiver> {
    const addon = nativeAddon;
    if (!addon?.udpRecvOpen) throw bindError(opts, new Error("the native addon is not built"));
    let ip = opts.host;
    if (!isIPv4(ip)) {
      try {
        ip = (await lookup(opts.host, { family: 4 })).address;
      } catch (err) {
        throw bindError(opts, err as Error);
      }
    }
    const batch = new UdpBatch();
    const onBatch = (count: number) => opts.onBatch(batch, count);
    let socket: NativeUdpSocket;
    try {
      socket = addon.udpRecvOpen(
        ip,
        opts.port,
        opts.recvBufferBytes,
        batch.bytes,
        batch.meta,
        batch.timeMs,
        onBatch,
        opts.onError,
      );
    } catch (err) {
      throw bindError(opts, err as Error);
    }
    const short = checkRecvBuffer(opts, socket.port, socket.recvBufferBytes);
    return new NativeUdpReceiver(socket, socket.port, socket.recvBufferBytes, short);
  }

  /** Closes the socket (idempotent). */
  close(): Promise<void> {
    this.socket.close();
    return Promise.resolve();
  }
}
