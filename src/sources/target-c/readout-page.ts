// A page of TARGET-C readouts decoded in place: the mV column is written where it is published (no batch to copy).
import { TARGET_C_PIXELS, type ReadoutColumns } from "../../codecs/index.js";
import { ByteSlab } from "../../core/index.js";

/** Bytes of one readout's mV row. */
const DATA_BYTES = TARGET_C_PIXELS * 4;
/** Bytes of one row of a sealed page: data f32[64], time f64, timestamp u64, aux_timestamp u64, module u16. */
const ROW_BYTES = DATA_BYTES + 8 + 8 + 8 + 2;

/** The columns of a sealed page: views of one slab region, laid out data, time, timestamp, aux, module. */
export interface SealedReadouts {
  readonly time: Float64Array;
  readonly timestamp: BigUint64Array;
  readonly auxTimestamp: BigUint64Array;
  readonly module: Uint16Array;
  readonly data: Float32Array;
}

/**
 * The page being filled: `decodeReadouts` writes mV rows straight into a region reserved in a slab (the
 * page's own memory) and the small columns (module, timestamp words) into reused arrays; `seal()` places the
 * small columns after the `n` rows written and takes exactly that much of the slab. At most `limit` rows, fewer
 * when the slab's free tail is shorter (`open()` then starts the next slab if even `minRows` do not fit).
 * @example const p = new ReadoutPage(2048); p.open(10); decodeReadouts(msg, 3, p); const cols = p.seal(Date.now() / 1000);
 */
export class ReadoutPage implements ReadoutColumns {
  /** Rows written. */
  n = 0;
  /** Rows the open region holds (0 when no page is open). */
  capacity = 0;
  readonly module: Uint16Array;
  readonly tsWords: Uint32Array;
  readonly auxWords: Uint32Array;
  mv: Float32Array = new Float32Array(0);
  private readonly ts: BigUint64Array;
  private readonly aux: BigUint64Array;
  private readonly slab = new ByteSlab();
  private buffer: ArrayBuffer | undefined;
  private offset = 0;

  constructor(readonly limit: number) {
    this.module = new Uint16Array(limit);
    this.ts = new BigUint64Array(limit);
    this.aux = new BigUint64Array(limit);
    this.tsWords = new Uint32Array(this.ts.buffer);
    this.auxWords = new Uint32Array(this.aux.buffer);
  }

  /** True when a page is open with room for `rows` more rows. */
  fits(rows: number): boolean {
    return this.n + rows <= this.capacity;
  }

  /** Opens an empty page with room for at least `minRows` rows (minRows <= limit). */
  open(minRows: number): void {
    const r = this.slab.reserve(minRows * ROW_BYTES);
    this.buffer = r.buffer;
    this.offset = r.offset;
    this.capacity = Math.min(this.limit, Math.floor(r.bytes / ROW_BYTES));
    this.mv = new Float32Array(r.buffer, r.offset, this.capacity * TARGET_C_PIXELS);
    this.n = 0;
  }

  /** Forgets the rows written (the region stays open and is overwritten). */
  discard(): void {
    this.n = 0;
  }

  /** Hands out the `n` rows written, every row stamped `timeSec`, and closes the page. */
  seal(timeSec: number): SealedReadouts {
    const n = this.n;
    const buf = this.buffer!;
    const at = this.offset;
    const data = new Float32Array(buf, at, n * TARGET_C_PIXELS);
    let o = at + n * DATA_BYTES;
    const time = new Float64Array(buf, o, n).fill(timeSec);
    o += 8 * n;
    const timestamp = new BigUint64Array(buf, o, n);
    timestamp.set(this.ts.subarray(0, n));
    o += 8 * n;
    const auxTimestamp = new BigUint64Array(buf, o, n);
    auxTimestamp.set(this.aux.subarray(0, n));
    o += 8 * n;
    const module = new Uint16Array(buf, o, n);
    module.set(this.module.subarray(0, n));
    this.slab.commit(n * ROW_BYTES);
    this.buffer = undefined;
    this.capacity = 0;
    this.n = 0;
    return { time, timestamp, auxTimestamp, module, data };
  }
}
