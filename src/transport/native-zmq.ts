// ZeroMQ sockets of the native addon (native-zmq/: the system's libzmq), with the part of zeromq.js's socket
// interface Hutch's document sockets use (PUSH/PULL, PUB/SUB); zeromq.js stays the fallback, and serves the
// broker's XPUB/XSUB, the control sockets and the instrument links. `documentSocket` picks the library.
import { Publisher, Pull, Push, Subscriber } from "zeromq";
import { ErrorCode, HutchError, loadNativeAddon } from "../core/index.js";

/** A socket handle of the addon; see native-zmq/zmq_socket.c. */
interface ZmqHandle {
  bind(endpoint: string): string;
  connect(endpoint: string): void;
  /** True when queued; false when the high-water mark refused it (nothing sent): wait for onWritable. */
  send(frames: readonly Buffer[]): boolean;
  read(on: boolean): void;
  subscribe(prefix: string): void;
  watchWritable(): void;
  close(): void;
}

interface ZmqAddon {
  zmqSocket(
    type: NativeSocketType,
    sendHighWaterMark: number,
    receiveHighWaterMark: number,
    lingerMs: number,
    onMessages: (batch: Buffer[][]) => void,
    onWritable: () => void,
    onError: (err: Error) => void,
  ): ZmqHandle;
  zmqVersion(): string;
}

/** The socket types of the addon: the lossless pair and the monitoring fan-out. */
export type NativeSocketType = "push" | "pull" | "pub" | "sub";

const addon = loadNativeAddon<ZmqAddon>(
  new URL("../../native-zmq/build/Release/hutch_zmq.node", import.meta.url),
);

/** Which ZeroMQ library a data-path socket runs on: `auto` takes the addon when it is built. */
export const ZMQ_BACKENDS = ["auto", "native", "zeromq.js"] as const;
/** A ZeroMQ backend choice. */
export type ZmqBackend = (typeof ZMQ_BACKENDS)[number];

/** The libzmq version the native sockets run on, or undefined when the addon is not built (or HUTCH_NATIVE=0). */
export const nativeZmqVersion: string | undefined = addon?.zmqVersion();

/** True when `backend` resolves to the native sockets; throws when `native` is asked for and not built. */
function useNativeZmq(backend: ZmqBackend = "auto"): boolean {
  if (backend === "zeromq.js") return false;
  if (addon) return true;
  if (backend === "native")
    throw new HutchError(
      ErrorCode.Config,
      "the native ZeroMQ sockets are not built (install libzmq3-dev and run npm run build), or HUTCH_NATIVE=0",
    );
  return false;
}

/** What ZmqInbox, attachSocket and ZmqPushSender need of a socket: zeromq.js sockets and NativeZmqSocket alike. */
export interface FrameSocket {
  readonly closed: boolean;
  readonly lastEndpoint: string | null;
  bind(address: string): Promise<void>;
  connect(address: string): void;
  close(): void;
}

/** A socket that reads whole messages, one per call. */
export interface FrameReader extends FrameSocket {
  receive(): Promise<Buffer[]>;
}

/** A socket that sends whole messages, one at a time. */
export interface FrameWriter extends FrameSocket {
  send(frames: Buffer[]): Promise<void>;
}

/** Messages read ahead of the consumer before the addon stops reading (and ZeroMQ's high-water marks push back). */
const READ_AHEAD = 64;
const SENT: Promise<void> = Promise.resolve();

/**
 * A PUSH, PULL, PUB or SUB socket on the native addon. Reads come from the addon in batches (one call per
 * readable event) into a short read-ahead list that `receive()` serves; the addon stops reading while the list
 * is full. A send refused by the high-water mark waits for the socket to become writable, then goes out; one at
 * a time.
 */
export class NativeZmqSocket implements FrameReader, FrameWriter {
  private readonly handle: ZmqHandle;
  private ahead: Buffer[][] = [];
  private head = 0;
  private reading = false;
  private waiter: { resolve: (m: Buffer[]) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;
  private pending: { frames: Buffer[]; resolve: () => void; reject: (e: Error) => void } | undefined;
  private endpoint: string | null = null;
  private isClosed = false;

  constructor(
    type: NativeSocketType,
    opts: { sendHighWaterMark?: number; receiveHighWaterMark?: number; linger?: number },
  ) {
    if (!addon) throw new HutchError(ErrorCode.Config, "the native ZeroMQ sockets are not built");
    this.handle = addon.zmqSocket(
      type,
      opts.sendHighWaterMark ?? 1000,
      opts.receiveHighWaterMark ?? 1000,
      opts.linger ?? 0,
      (batch) => this.onMessages(batch),
      () => this.onWritable(),
      (err) => this.onError(err),
    );
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get lastEndpoint(): string | null {
    return this.endpoint;
  }

  bind(address: string): Promise<void> {
    try {
      this.endpoint = this.handle.bind(address);
      return SENT;
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  connect(address: string): void {
    this.handle.connect(address);
  }

  /** SUB only: receive messages whose topic starts with `prefix`. */
  subscribe(prefix: string): void {
    this.handle.subscribe(prefix);
  }

  receive(): Promise<Buffer[]> {
    if (this.head < this.ahead.length) {
      const m = this.ahead[this.head++]!;
      if (this.head === this.ahead.length) {
        this.ahead = [];
        this.head = 0;
        if (!this.reading && !this.closed) this.setReading(true);
      }
      return Promise.resolve(m);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(closedError("receive"));
    if (this.waiter) return Promise.reject(new HutchError(ErrorCode.Io, "a receive is already waiting"));
    if (!this.reading) this.setReading(true);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  send(frames: Buffer[]): Promise<void> {
    if (this.closed) return Promise.reject(closedError("send"));
    if (this.pending) return Promise.reject(new HutchError(ErrorCode.Io, "a send is already waiting"));
    try {
      if (this.handle.send(frames)) return SENT;
      this.handle.watchWritable();
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise((resolve, reject) => (this.pending = { frames, resolve, reject }));
  }

  /** Closes the socket (queued messages are delivered for its linger); waiting calls reject. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.handle.close();
    const err = closedError("close");
    this.waiter?.reject(err);
    this.pending?.reject(err);
    this.waiter = this.pending = undefined;
  }

  private setReading(on: boolean): void {
    this.reading = on;
    this.handle.read(on);
  }

  private onMessages(batch: Buffer[][]): void {
    let i = 0;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w.resolve(batch[i++]!);
    }
    for (; i < batch.length; i++) this.ahead.push(batch[i]!);
    if (this.ahead.length - this.head >= READ_AHEAD) this.setReading(false);
  }

  private onWritable(): void {
    const p = this.pending;
    if (!p) return;
    try {
      if (!this.handle.send(p.frames)) {
        this.handle.watchWritable();
        return;
      }
      this.pending = undefined;
      p.resolve();
    } catch (err) {
      this.pending = undefined;
      p.reject(err as Error);
    }
  }

  private onError(err: Error): void {
    this.failure = err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }
}

function closedError(op: string): HutchError {
  return new HutchError(ErrorCode.Closed, `${op}: the ZeroMQ socket is closed`);
}

/** Options of a document socket: ZeroMQ's, the library, and a SUB socket's topic prefix. */
export interface DocumentSocketOptions {
  readonly backend?: ZmqBackend | undefined;
  readonly linger: number;
  readonly sendHighWaterMark?: number;
  readonly receiveHighWaterMark?: number;
  /** SUB: receive messages whose topic starts with this (default: all). */
  readonly subscribe?: string;
}

/**
 * A socket of Hutch's document transport on the library `backend` resolves to: the native addon's when built
 * (`auto`), else zeromq.js's. The one place that choice is made.
 */
export function documentSocket(type: "push" | "pub", opts: DocumentSocketOptions): FrameWriter;
export function documentSocket(type: "pull" | "sub", opts: DocumentSocketOptions): FrameReader;
export function documentSocket(
  type: NativeSocketType,
  opts: DocumentSocketOptions,
): FrameReader | FrameWriter {
  const { backend, subscribe, ...sockOpts } = opts;
  if (useNativeZmq(backend)) {
    const native = new NativeZmqSocket(type, sockOpts);
    if (type === "sub") native.subscribe(subscribe ?? "");
    return native;
  }
  switch (type) {
    case "push":
      return new Push(sockOpts);
    case "pull":
      return new Pull(sockOpts);
    case "pub":
      return new Publisher(sockOpts);
    case "sub": {
      const js = new Subscriber(sockOpts);
      js.subscribe(subscribe ?? "");
      return js;
    }
  }
}
