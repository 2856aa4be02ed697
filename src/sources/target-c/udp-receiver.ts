// A bound UDP socket with a large receive buffer, reporting when the kernel grants less than asked.
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { ErrorCode, HutchError, type Logger } from "../../core/index.js";

/** Where and how a UDP receiver (dgram or native) binds, and where it reports. */
export interface UdpBindOptions {
  /** Address to bind (e.g. `0.0.0.0`, `127.0.0.1`). */
  readonly host: string;
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
  /** Receive buffer asked of the kernel (bytes); Linux caps it at `net.core.rmem_max`. */
  readonly recvBufferBytes: number;
  /** Called when the socket fails after binding. */
  readonly onError: (err: Error) => void;
  readonly log: Logger;
}

/** Options of a UdpReceiver. */
export interface UdpReceiverOptions extends UdpBindOptions {
  /** Called for every datagram, synchronously; must not throw. */
  readonly onMessage: (msg: Buffer, from: RemoteInfo) => void;
}

/** The error of a socket that could not be bound, naming the address. */
export function bindError(opts: { host: string; port: number }, err: Error): HutchError {
  return new HutchError(ErrorCode.Io, `cannot bind UDP ${opts.host}:${opts.port}: ${err.message}`, {
    cause: err,
  });
}

/**
 * Compares the receive buffer the kernel reports (`obtained`, bytes) with the one asked for and warns, naming
 * `net.core.rmem_max`, when it is smaller. Returns true when it is.
 */
export function checkRecvBuffer(
  opts: { host: string; recvBufferBytes: number; log: Logger },
  port: number,
  obtained: number,
): boolean {
  const short = obtained < opts.recvBufferBytes;
  if (short) {
    opts.log.warn(
      `UDP receive buffer on ${opts.host}:${port}: asked for ${opts.recvBufferBytes} bytes, ` +
        `the kernel gave ${obtained}; bursts may be lost. Raise net.core.rmem_max ` +
        `(sysctl -w net.core.rmem_max=${opts.recvBufferBytes})`,
      { asked: opts.recvBufferBytes, obtained, sysctl: "net.core.rmem_max" },
    );
  }
  return short;
}

/**
 * A UDP receiver bound to `host:port`. Asks for `recvBufferBytes` and warns, naming `net.core.rmem_max`, when the
 * kernel grants less (bursts would then be lost in the kernel). Linux reports twice the granted size (it counts
 * its bookkeeping), which is the figure compared and exposed as `recvBufferBytes`.
 * @example const rx = await UdpReceiver.open({ host: "0.0.0.0", port: 17000, recvBufferBytes: 8 << 20, onMessage, onError, log });
 */
export class UdpReceiver {
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    /** The bound port. */
    readonly port: number,
    /** The receive buffer the kernel reports (bytes). */
    readonly recvBufferBytes: number,
    /** True when the kernel granted less than asked. */
    readonly bufferShort: boolean,
  ) {}

  /** Binds the socket; rejects with HUTCH_ERR_IO naming the address when binding fails. */
  static async open(opts: UdpReceiverOptions): Promise<UdpReceiver> {
    const socket = createSocket({ type: "udp4", recvBufferSize: opts.recvBufferBytes });
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => reject(bindError(opts, err));
      socket.once("error", fail);
      socket.bind(opts.port, opts.host, () => {
        socket.off("error", fail);
        resolve();
      });
    });
    // Node sets the buffer at bind; ask again explicitly, the kernel silently caps it.
    try {
      socket.setRecvBufferSize(opts.recvBufferBytes);
    } catch {
      // capped below: reported by the size check
    }
    const got = socket.getRecvBufferSize();
    const short = checkRecvBuffer(opts, socket.address().port, got);
    socket.on("message", opts.onMessage);
    const r = new UdpReceiver(socket, socket.address().port, got, short);
    socket.on("error", (err) => {
      if (!r.closed) opts.onError(err);
    });
    return r;
  }

  /** Closes the socket (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
