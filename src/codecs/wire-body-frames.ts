// Body frames of a wire message: arrays that lie together in one buffer travel as one frame (docs/wire.md).
import type { NdArray } from "../core/index.js";

/**
 * Bytes of other data a body frame may span between two arrays of one buffer: alignment padding, nothing more
 * (a frame never carries a sizeable piece of unrelated memory).
 */
const GAP_MAX_BYTES = 64;

// The layout of the current message, in reused tables (no objects per message): arrays sorted by position, the
// body of each array, and per body its buffer, byte range, lowest array index and frame number.
let byPos = new Int32Array(16);
let bodyOf = new Int32Array(16);
let bStart = new Float64Array(16);
let bEnd = new Float64Array(16);
let bFirst = new Int32Array(16);
let bFrame = new Int32Array(16);
const bBuffer: ArrayBufferLike[] = [];
const NO_BUFFER = new ArrayBuffer(0);

function grow(n: number): void {
  if (byPos.length >= n) return;
  const m = 2 * n;
  [byPos, bodyOf, bFirst, bFrame] = [
    new Int32Array(m),
    new Int32Array(m),
    new Int32Array(m),
    new Int32Array(m),
  ];
  [bStart, bEnd] = [new Float64Array(m), new Float64Array(m)];
}

/**
 * Lays the arrays out in body frames, never copying: arrays of one buffer within GAP_MAX_BYTES of each other
 * share a frame that starts 8-byte aligned in that buffer (so every array keeps its alignment), any other array
 * is a frame of its own. Frames are numbered in the order of the first array they hold. Appends the frames and
 * returns how many there are; until the next call, `bodyFrameOf(i)` and `bodyStartOf(i)` say where array `i` is.
 */
export function layOutBodyFrames(arrays: readonly NdArray[], frames: Buffer[]): number {
  const n = arrays.length;
  grow(n);
  for (let i = 0; i < n; i++) {
    const at = arrays[i]!.data.byteOffset; // insertion sort: a handful of arrays
    let j = i;
    for (; j > 0 && arrays[byPos[j - 1]!]!.data.byteOffset > at; j--) byPos[j] = byPos[j - 1]!;
    byPos[j] = i;
  }
  let bodies = 0;
  for (let r = 0; r < n; r++) {
    const i = byPos[r]!;
    const d = arrays[i]!.data;
    const start = d.byteOffset;
    const end = start + d.byteLength;
    let k = -1;
    for (let x = 0; x < bodies; x++) if (bBuffer[x] === d.buffer && start <= bEnd[x]! + GAP_MAX_BYTES) k = x;
    if (k < 0) {
      k = bodies++;
      bBuffer[k] = d.buffer;
      bStart[k] = start - (start % 8);
      bEnd[k] = end;
      bFirst[k] = i;
    } else {
      if (end > bEnd[k]!) bEnd[k] = end;
      if (i < bFirst[k]!) bFirst[k] = i;
    }
    bodyOf[i] = k;
  }
  for (let k = 0; k < bodies; k++) {
    let f = 0;
    for (let x = 0; x < bodies; x++) if (bFirst[x]! < bFirst[k]!) f++;
    bFrame[k] = f;
  }
  for (let f = 0; f < bodies; f++) {
    for (let k = 0; k < bodies; k++) {
      if (bFrame[k] !== f) continue;
      frames.push(Buffer.from(bBuffer[k] as ArrayBuffer, bStart[k], bEnd[k]! - bStart[k]!));
    }
  }
  for (let k = 0; k < bodies; k++) bBuffer[k] = NO_BUFFER; // do not keep the buffers alive
  return bodies;
}

/** The body frame number of array `i` of the last layout. */
export function bodyFrameOf(i: number): number {
  return bFrame[bodyOf[i]!]!;
}

/** Where the body frame of array `i` of the last layout starts in the array's buffer (bytes). */
export function bodyStartOf(i: number): number {
  return bStart[bodyOf[i]!]!;
}
