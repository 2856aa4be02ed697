// The wire header format's version and what its MessagePack writer and reader share (docs/wire.md).
import { ErrorCode, HutchError } from "../core/index.js";

/**
 * Version of the frame layout written: 2 = arrays at `{frame, offset}` of body frames (several arrays of one
 * buffer share a frame). Version 1 (one frame per array, frame `2 + i`) is still read. New optional header keys
 * keep the version.
 */
export const WIRE_VERSION = 2;

/** Placeholder for an array inside the header's `doc`: `{"$nd": i}` refers to `arrays[i]`. */
export const ND_KEY = "$nd";

/** How deep a header's document may nest, for the writer and the reader alike. */
export const HEADER_MAX_DEPTH = 100;

/** A HUTCH_ERR_WIRE error with its rejection reason in `details.reason`. */
export function wireError(reason: string, message: string, cause?: unknown): HutchError {
  return new HutchError(ErrorCode.Wire, message, { cause, details: { reason } });
}
