// The `target-c-source` component: CHEC-S slow-signal datagrams over UDP -> validated, decoded readout pages on the bus.
import { HOST_LITTLE_ENDIAN } from "../../codecs/index.js";
import { defineComponent, type ComponentHooks } from "../../component/index.js";
import { ErrorCode, HutchError } from "../../core/index.js";
import { NativeUdpReceiver } from "./native-udp-receiver.js";
import { ReadoutReceiver } from "./readout-receiver.js";
import { TargetCSourceParamsSchema, type TargetCSourceParams } from "./target-c-params.js";
import { UdpReceiver } from "./udp-receiver.js";

export * from "./target-c-params.js";

/** True when `receiver` (a param value) means the native path here; throws HUTCH_ERR_CONFIG when it cannot. */
export function usesNativeReceiver(receiver: TargetCSourceParams["receiver"]): boolean {
  const can = NativeUdpReceiver.available() && HOST_LITTLE_ENDIAN;
  if (receiver === "native" && !can) {
    throw new HutchError(
      ErrorCode.Config,
      "target-c source: receiver 'native' needs the native addon (native/, built by npm run build), which is " +
        "not built, disabled by HUTCH_NATIVE=0, or unsupported on this host; use receiver 'auto' or 'dgram'",
    );
  }
  return receiver !== "dgram" && can;
}

/**
 * The CHEC-S slow-signal source: binds UDP at configure, and during a run publishes the `readouts` stream (module,
 * timestamp, aux_timestamp, data f32[64] mV per row) in pages. Bad lengths, unknown sources and impossible
 * timestamps are counted by reason and logged at a bounded rate; the source never stops on bad input.
 * @example components: [{ name: tm, type: target-c-source, params: { port: 17000, modules: 32 } }]
 */
export const targetCSourceComponent = defineComponent<TargetCSourceParams>({
  type: "target-c-source",
  description: "CHEC-S TARGET-C slow-signal readouts over UDP",
  role: "source",
  params: TargetCSourceParamsSchema,
  create(params, ctx): ComponentHooks {
    let p = params;
    let rx: UdpReceiver | NativeUdpReceiver | undefined;
    let recv: ReadoutReceiver | undefined;
    const bind = async () => {
      if (rx && recv) return;
      const native = usesNativeReceiver(p.receiver);
      recv = new ReadoutReceiver(p, ctx);
      const r = recv;
      const opts = {
        host: p.host,
        port: p.port,
        recvBufferBytes: p.recvBufferBytes,
        onError: (err: Error) => ctx.fail(`target-c source: UDP socket on ${p.host}:${p.port} failed`, err),
        log: ctx.log,
      };
      rx = native
        ? await NativeUdpReceiver.open({ ...opts, onBatch: r.onBatch })
        : await UdpReceiver.open({ ...opts, onMessage: r.onMessage });
      ctx.counters.set("recv_buffer_bytes", rx.recvBufferBytes);
      ctx.counters.set("port", rx.port);
      ctx.counters.set("native_receive", native ? 1 : 0);
    };
    const unbind = async () => {
      const r = rx;
      rx = undefined;
      recv = undefined;
      await r?.close();
    };
    return {
      async configure(config) {
        const next = TargetCSourceParamsSchema.parse(config);
        const rebind =
          next.host !== p.host ||
          next.port !== p.port ||
          next.recvBufferBytes !== p.recvBufferBytes ||
          next.receiver !== p.receiver ||
          next.batchReadouts !== p.batchReadouts;
        p = next;
        if (rebind) await unbind();
        await bind();
        recv!.update(p);
      },
      async start() {
        await bind();
        await recv!.begin();
      },
      async stop() {
        await recv?.end();
      },
      async reset() {
        await recv?.end();
      },
      async close() {
        await recv?.end();
        await unbind();
      },
    };
  },
});
