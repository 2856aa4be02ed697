// Carves page columns out of shared 1 MiB ArrayBuffers: far fewer backing stores for V8 to track than one per page.
import { ErrorCode, HutchError } from "./errors.js";

/** Size of one slab unless a single request is larger (bytes). */
export const SLAB_BYTES_DEFAULT = 1 << 20;

/**
 * A bump allocator over ArrayBuffers: `take(bytes)` returns an 8-byte aligned, zeroed region of a slab that is
 * never handed out again (no reuse, so pages may be held by subscribers for as long as they like). A new slab is
 * started when the current one is full; a slab is freed by the GC once no page refers to it. Allocating one
 * ArrayBuffer per page at 1000s of pages/s makes V8 run a full mark-compact every few tens of ms; slabs avoid it.
 * The cost: a page kept alive keeps its whole slab (at most `slabBytes`) alive.
 * @example const slab = new ByteSlab(); const { buffer, offset } = slab.take(4096); new Float32Array(buffer, offset, 1024);
 */
export class ByteSlab {
  private buffer: ArrayBuffer | undefined;
  private used = 0;

  constructor(private readonly slabBytes = SLAB_BYTES_DEFAULT) {
    if (!Number.isInteger(slabBytes) || slabBytes < 8) {
      throw new HutchError(ErrorCode.Validation, `slab size must be an integer >= 8 bytes, got ${slabBytes}`);
    }
  }

  /**
   * The free tail of the current slab, at least `minBytes` long (a new slab is started when the tail is shorter),
   * without taking it: fill a prefix, then `commit()` what was used. Until then `take()` and `reserve()` hand out
   * the same bytes again, so one owner must not interleave them. Lets a writer whose final size is unknown (a page
   * being filled) write in place instead of copying.
   */
  reserve(minBytes: number): { buffer: ArrayBuffer; offset: number; bytes: number } {
    const size = Math.ceil(minBytes / 8) * 8;
    if (!this.buffer || this.used + size > this.buffer.byteLength) {
      this.buffer = new ArrayBuffer(Math.max(size, this.slabBytes));
      this.used = 0;
    }
    return { buffer: this.buffer, offset: this.used, bytes: this.buffer.byteLength - this.used };
  }

  /** Takes the first `bytes` of the region last `reserve()`d (rounded up to 8); never more than it held. */
  commit(bytes: number): void {
    const size = Math.ceil(bytes / 8) * 8;
    if (!this.buffer || this.used + size > this.buffer.byteLength) {
      throw new HutchError(ErrorCode.Overflow, `cannot commit ${bytes} bytes: more than the reserved region`);
    }
    this.used += size;
  }

  /** A zeroed region of `bytes` bytes: the slab and the region's byte offset (a multiple of 8). */
  take(bytes: number): { buffer: ArrayBuffer; offset: number } {
    const size = Math.ceil(bytes / 8) * 8;
    if (!this.buffer || this.used + size > this.buffer.byteLength) {
      this.buffer = new ArrayBuffer(Math.max(size, this.slabBytes));
      this.used = 0;
    }
    const offset = this.used;
    this.used += size;
    return { buffer: this.buffer, offset };
  }
}
