// The optional native (C) decoders of native/, built by scripts/build.mjs; without them the TypeScript ones run.
import { createRequire } from "node:module";

/** What native/build/Release/hutch_native.node exports. */
export interface NativeDecoders {
  /**
   * Decodes `n` LArPix words (`words`: int32 pairs, low half first) into rows `start..` of a packet batch whose
   * memory `batch` covers, at the byte `offsets` of its columns (timestamp, counter, adc, chip id, type,
   * channel, FIFO half, FIFO full, parity, valid parity, register, value), writing every field of every row.
   * Returns one past the last row that is not a data packet (0 when all are).
   */
  larpixDecode(words: Int32Array, n: number, start: number, batch: Uint32Array, offsets: Int32Array): number;
}

/** Where the addon is, from src/codecs/ (tsx, vitest) and from dist/codecs/ alike. */
const ADDON = "../../native/build/Release/hutch_native.node";

function load(): NativeDecoders | undefined {
  if (process.env.HUTCH_NATIVE === "0") return undefined;
  try {
    return createRequire(import.meta.url)(ADDON) as NativeDecoders;
  } catch {
    return undefined;
  }
}

/** The native decoders, or undefined when they are not built (or `HUTCH_NATIVE=0`). */
export const nativeDecoders: NativeDecoders | undefined = load();
