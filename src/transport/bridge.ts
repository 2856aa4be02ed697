// Connects a process's InprocBus to the ZeroMQ network: local documents out, remote documents in, no echoes.
import { ErrorCode, HutchError, RateLimiter, type Logger } from "../core/index.js";
import { encodeDocument } from "../codecs/index.js";
import type { BusMessage, InprocBus } from "./bus.js";
import type { BusBroker } from "./broker.js";
import { linkAbort, type AttachMode } from "./zmq-endpoint.js";
import { ZmqPublisher } from "./zmq-publisher.js";
import { ZmqSubscriber } from "./zmq-subscriber.js";

/** Options of `bridgeBus`. Give `broker` (core process) or `publish`/`subscribe` (satellite or plain PUB). */
export interface BridgeOptions {
  /** This process's node id, written as `origin` on everything it sends; arrivals with it are echoes. */
  readonly nodeId: string;
  /** Local topics to forward (default: all). */
  readonly prefix?: string;
  /** Core process: local documents go out of the broker's XPUB side, the broker's arrivals come in. */
  readonly broker?: BusBroker;
  /** Publish local documents on a PUB socket: `bind` a plain publisher, or `connect` to a broker's inAddress. */
  readonly publish?: {
    readonly address: string;
    readonly mode?: AttachMode;
    readonly sendHighWaterMark?: number;
  };
  /** Subscribe to a remote address (a broker's outAddress) and publish arrivals on the local bus. */
  readonly subscribe?: { readonly address: string; readonly prefix?: string; readonly capacity?: number };
  /** Where send failures and rejected messages are reported (rate-limited). */
  readonly logger?: Logger;
  /** Closes the bridge when aborted. */
  readonly signal?: AbortSignal;
}

/** Counters of a bridge. */
export interface BridgeStats {
  /** Local documents sent to the network. */
  forwarded: number;
  /** Remote documents published on the local bus. */
  delivered: number;
  /** Arrivals skipped because they carried this node's id. */
  readonly echoes: number;
  /** Send failures. */
  errors: number;
}

/** A running bridge. */
export interface BusBridge {
  readonly stats: BridgeStats;
  /** The inbound subscriber, when `subscribe` was given (its queue and wire counters). */
  readonly subscriber: ZmqSubscriber | undefined;
  /** The outbound publisher, when `publish` was given. */
  readonly publisher: ZmqPublisher | undefined;
  /** Stops forwarding, closes the sockets it opened (never the broker) and waits for the inbound pump. */
  close(): Promise<void>;
}

/**
 * Bridges `bus` to the network. Only documents published locally (origin undefined) go out, stamped with
 * `nodeId`; documents that come in are published locally with their origin (`"remote"` when the sender set
 * none), so they never go out again, and this node's own documents coming back are dropped and counted.
 * @example
 * // core: const broker = await BusBroker.open({ inAddress, outAddress }); await bridgeBus(bus, { nodeId: "core", broker });
 * // satellite: await bridgeBus(bus, { nodeId: "sat1", publish: { address: inAddress, mode: "connect" },
 * //                                   subscribe: { address: outAddress, prefix: "demo/" } });
 */
export async function bridgeBus(bus: InprocBus, opts: BridgeOptions): Promise<BusBridge> {
  if (!opts.broker && !opts.publish && !opts.subscribe) {
    throw new HutchError(ErrorCode.Config, "bridgeBus: give `broker`, `publish` or `subscribe`");
  }
  const { nodeId, broker, logger } = opts;
  let subscriber: ZmqSubscriber | undefined;
  let echoes = 0;
  const stats: BridgeStats = {
    forwarded: 0,
    delivered: 0,
    errors: 0,
    get echoes() {
      return echoes + (subscriber?.wire.echoes ?? 0); // the subscriber drops echoes before queueing
    },
  };
  const limiter = new RateLimiter(5, 1000);
  const failed = (err: unknown): void => {
    stats.errors++;
    if (logger && limiter.take()) {
      logger.warn(`bridge ${nodeId}: send failed: ${(err as Error).message}`, { errors: stats.errors });
    }
  };
  const arrive = (m: BusMessage): Promise<void> | undefined => {
    if (m.origin === nodeId) {
      echoes++;
      return undefined;
    }
    stats.delivered++;
    return bus.publish(m.doc, { origin: m.origin ?? "remote" });
  };

  let publisher: ZmqPublisher | undefined;
  try {
    if (opts.publish) {
      publisher = await ZmqPublisher.open({
        address: opts.publish.address,
        mode: opts.publish.mode ?? "bind",
        instrument: bus.instrument,
        origin: nodeId,
        sendHighWaterMark: opts.publish.sendHighWaterMark,
      });
    }
    if (opts.subscribe) {
      subscriber = await ZmqSubscriber.open({
        address: opts.subscribe.address,
        prefix: opts.subscribe.prefix ?? "",
        capacity: opts.subscribe.capacity,
        name: `bridge:${nodeId}`,
        logger,
        ignoreOrigin: nodeId,
      });
    }
  } catch (err) {
    publisher?.close();
    throw err;
  }

  const untap = bus.tap(opts.prefix ?? "", (m) => {
    if (m.origin !== undefined) return; // came from the network: never send it back
    let frames: Buffer[];
    try {
      frames = encodeDocument(m.topic, m.doc, { origin: nodeId });
    } catch (err) {
      failed(err);
      return;
    }
    stats.forwarded++;
    // Both targets may share the frames: nothing mutates them after encoding.
    if (publisher) publisher.sendFrames(frames).catch(failed);
    if (broker) broker.sendFrames(frames).catch(failed);
  });
  const unlisten = broker?.listen(arrive);
  const pump = subscriber ? pumpInto(subscriber, arrive) : Promise.resolve();

  let unlink = (): void => undefined;
  const bridge: BusBridge = {
    stats,
    subscriber,
    publisher,
    async close() {
      unlink();
      untap();
      unlisten?.();
      publisher?.close();
      subscriber?.close();
      await pump;
    },
  };
  unlink = linkAbort(opts.signal, () => void bridge.close());
  return bridge;
}

/** Publishes what a subscriber receives on the local bus, one at a time (the bus's back-pressure applies). */
async function pumpInto(sub: ZmqSubscriber, arrive: (m: BusMessage) => Promise<void> | undefined) {
  for await (const m of sub) {
    // ignoreOrigin already drops echoes in the subscriber; `arrive` counts any that slip through.
    const p = arrive(m);
    if (p) await p;
  }
}
