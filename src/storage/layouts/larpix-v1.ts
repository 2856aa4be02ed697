// The LArPix+HDF5 v1.0 layout (larpix-control's format): `_header` attributes, `packets` and `messages` tables.
import {
  ChipKeyCache,
  LARPIX_PACKET_TYPES_ATTR,
  LARPIX_STREAM_FORMAT,
  LARPIX_TYPE,
} from "../../codecs/index.js";
import {
  ErrorCode,
  HutchError,
  nowSec,
  type Descriptor,
  type Event,
  type EventPage,
  type NdArray,
  type TypedArray,
} from "../../core/index.js";
import { attr, chunkRowsFor, elementBytes, type CompoundMember, type CompoundType } from "../h5-types.js";
import type { LayoutFactory, LayoutOptions, LayoutWriter, RunFileLayout } from "../layout.js";
import { layoutNames, registerLayout } from "../layout-registry.js";

/** The members of `packets`, in larpix-control's order (its reader indexes rows by position). */
export function larpixV1PacketType(adc: "uint16" | "uint8"): CompoundType {
  const u8 = (name: string): CompoundMember => ({ name, type: "uint8" });
  return {
    compound: [
      { name: "chip_key", type: { fixedString: 32 } },
      u8("type"),
      u8("chipid"),
      u8("parity"),
      u8("valid_parity"),
      u8("channel"),
      { name: "timestamp", type: "uint64" },
      { name: "adc_counts", type: adc },
      u8("fifo_half"),
      u8("fifo_full"),
      u8("register"),
      u8("value"),
      { name: "counter", type: "uint32" },
      u8("direction"),
    ],
  };
}

/** The members of `messages`. */
export const LARPIX_V1_MESSAGE_TYPE: CompoundType = {
  compound: [
    { name: "message", type: { fixedString: 64 } },
    { name: "timestamp", type: "uint64" },
    { name: "index", type: "uint32" },
  ],
};

const col = (page: EventPage, name: string): TypedArray => {
  const a: NdArray | undefined = page.data[name];
  if (!a)
    throw new HutchError(ErrorCode.Validation, `larpix-v1: stream '${page.stream}' has no field '${name}'`);
  return a.data;
};

/** Messages longer than 64 bytes are cut at a character boundary (the v1.0 field is S64). */
function fit64(s: string): string {
  let out = s;
  while (Buffer.byteLength(out, "utf8") > 64) out = out.slice(0, -1);
  return out;
}

/**
 * Makes the LArPix+HDF5 v1.0 layout. `adc: "uint16"` (layout `larpix-v1`) keeps the full 10-bit ADC value in
 * `adc_counts` — the one deviation from the v1.0 dtype list, readable by larpix-control (its reader takes fields
 * by position); `adc: "uint8"` (layout `larpix-v1-strict`) writes the v1.0 dtypes exactly and saturates values
 * above 255 at 255, counting them in the `_header` attribute `adc_counts_saturated`.
 */
export function larpixV1Layout(adc: "uint16" | "uint8"): LayoutFactory {
  return (opts: LayoutOptions): RunFileLayout => {
    const packetsType = larpixV1PacketType(adc);
    const keys = new ChipKeyCache();
    const streams = new Map<string, "packets" | "messages">();
    let messageIndex = 0;
    let saturated = 0;

    const appendPackets = (w: LayoutWriter, p: EventPage) => {
      const n = p.n;
      if (n === 0) return;
      const type = col(p, "type") as Uint8Array;
      const g = col(p, "io_group") as Uint8Array;
      const c = col(p, "io_channel") as Uint8Array;
      const id = col(p, "chip_id") as Uint8Array;
      const chipKeys = new Array<string>(n);
      for (let i = 0; i < n; i++)
        chipKeys[i] = type[i]! < LARPIX_TYPE.timestamp ? keys.get(g[i]!, c[i]!, id[i]!) : "";
      let adcCol = col(p, "adc");
      if (adc === "uint8") {
        const a = adcCol as Uint16Array;
        const u8 = new Uint8Array(n);
        for (let i = 0; i < n; i++) {
          const v = a[i]!;
          if (v > 255) saturated++;
          u8[i] = v > 255 ? 255 : v;
        }
        adcCol = u8;
      }
      w.append("/packets", n, {
        chip_key: chipKeys,
        type,
        chipid: id,
        parity: col(p, "parity"),
        valid_parity: col(p, "valid_parity"),
        channel: col(p, "channel"),
        timestamp: col(p, "timestamp"),
        adc_counts: adcCol,
        fifo_half: col(p, "fifo_half"),
        fifo_full: col(p, "fifo_full"),
        register: col(p, "register"),
        value: col(p, "value"),
        counter: col(p, "counter"),
        direction: col(p, "direction"),
      });
    };

    const appendMessage = (w: LayoutWriter, message: string, timestamp: bigint) => {
      const index = messageIndex++;
      w.append("/messages", 1, {
        message: [fit64(message)],
        timestamp: BigUint64Array.of(timestamp),
        index: Uint32Array.of(index),
      });
      const z = Uint8Array.of(0);
      w.append("/packets", 1, {
        chip_key: [""],
        type: Uint8Array.of(LARPIX_TYPE.message),
        chipid: z,
        parity: z,
        valid_parity: z,
        channel: z,
        timestamp: BigUint64Array.of(timestamp),
        adc_counts: adc === "uint16" ? Uint16Array.of(0) : z,
        fifo_half: z,
        fifo_full: z,
        register: z,
        value: z,
        counter: Uint32Array.of(index),
        direction: z,
      });
    };

    const name = adc === "uint16" ? "larpix-v1" : "larpix-v1-strict";
    return {
      name,
      onRunStart(w, start) {
        const now = nowSec();
        messageIndex = 0;
        w.group("/_header", {
          version: "1.0",
          created: attr.float64(now),
          modified: attr.float64(now),
          hutch_layout: name,
          hutch_run: attr.int64(start.run),
          hutch_uid: start.uid,
        });
        w.dataset("/packets", {
          type: packetsType,
          rowShape: [],
          chunkRows: chunkRowsFor(elementBytes(packetsType), opts.chunkBytes),
          gzip: opts.gzipFor("packets"),
          attrs: { packet_types: LARPIX_PACKET_TYPES_ATTR },
        });
        w.dataset("/messages", {
          type: LARPIX_V1_MESSAGE_TYPE,
          rowShape: [],
          chunkRows: 256,
          gzip: opts.gzipFor("messages"),
        });
      },
      onDescriptor(_w, d: Descriptor) {
        const format = d.configuration?.format;
        if (format === LARPIX_STREAM_FORMAT.packets) streams.set(d.uid, "packets");
        else if (format === LARPIX_STREAM_FORMAT.messages) streams.set(d.uid, "messages");
      },
      onPage(w, page, d) {
        const kind = streams.get(d.uid);
        // Messages have a string field, so they travel as events (pages hold numeric arrays only).
        if (kind === "packets") appendPackets(w, page);
      },
      onEvent(w, e: Event, d) {
        if (streams.get(d.uid) !== "messages") return;
        const m = e.data.message;
        const t = e.data.timestamp;
        if (typeof m !== "string")
          throw new HutchError(ErrorCode.Validation, "larpix-v1: a message event needs 'message'");
        appendMessage(w, m, BigInt(typeof t === "number" || typeof t === "bigint" ? t : Math.floor(e.time)));
      },
      onRunStop(w, stop) {
        w.attrs("/_header", {
          modified: attr.float64(stop.time),
          ...(adc === "uint8" ? { adc_counts_saturated: attr.int64(saturated) } : {}),
        });
      },
    };
  };
}

// Registered when the storage layer is loaded, so `layouts: [larpix-v1]` works in any hdf5-writer.
for (const [n, a] of [
  ["larpix-v1", "uint16"],
  ["larpix-v1-strict", "uint8"],
] as const) {
  if (!layoutNames().includes(n)) registerLayout(n, larpixV1Layout(a));
}
