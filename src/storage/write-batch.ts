// Records layout calls as batches of file operations, copying appended rows once into a transferable arena.
import { bytesOf, dtypeOf, ErrorCode, HutchError, type TypedArray } from "../core/index.js";
import { elementBytes, isCompound, type Attrs, type DatasetSpec } from "./h5-types.js";
import type { AppendData, CompoundColumns, LayoutWriter } from "./layout.js";
import type { Batch, FileOp } from "./worker-protocol.js";

/** Reuses arena buffers: the worker hands each one back with its reply. */
export class ArenaPool {
  private free: Arena[] = [];
  constructor(
    readonly size: number,
    private readonly keep = 8,
  ) {}

  /**
   * A buffer of at least `n` bytes. Those of the standard size are shared with the worker, not transferred, and
   * serve batch after batch: a transferred buffer is new memory to the receiving isolate's GC accounting each
   * time, and 1 MiB frames then set off a full GC every 30 MiB. Larger ones are one-off and transferred.
   */
  take(n: number): Arena {
    if (n <= this.size) return this.free.pop() ?? new SharedArrayBuffer(this.size);
    return new ArrayBuffer(n);
  }

  /** Returns a buffer (kept only when of the standard size). */
  give(buf: Arena | undefined): void {
    if (buf && buf.byteLength === this.size && this.free.length < this.keep) this.free.push(buf);
  }
}

/** The memory of a batch: shared with the worker (pooled) or transferred to it (one-off, larger). */
export type Arena = ArrayBuffer | SharedArrayBuffer;

interface PendingAppend {
  rows: number;
  segments: [number, number][];
  strings: string[] | undefined;
}

interface Mark {
  readonly ops: number;
  readonly used: number;
  readonly arena: Uint8Array | undefined;
  readonly appends: Map<string, { rows: number; segments: number; last: number; strings: number }>;
}

const enc = new TextEncoder();

/**
 * The main-thread side of a {@link LayoutWriter}: structural calls become ops in order, appends to the same
 * dataset within a batch are coalesced (one write per dataset per batch). A batch is sealed when its arena is
 * full, at a flush, or when a file opens or closes; `take()` hands sealed batches to the writer.
 */
export class BatchBuilder implements LayoutWriter {
  file = "";
  part = 0;
  parts: string[] = [];
  private ops: FileOp[] = [];
  private appends = new Map<string, PendingAppend>();
  private arena: Uint8Array | undefined;
  private used = 0;
  private reserved = 0;
  private created = new Map<string, DatasetSpec | "group">();
  private sealed: Batch[] = [];
  private nextId = 1;
  private newRun = false;
  private marked: Mark | undefined;

  constructor(private readonly pool: ArenaPool) {}

  /** Bytes appended and not yet sealed. */
  get pendingBytes(): number {
    return this.used;
  }

  /** Bytes appended since this builder was made (not lowered when a batch is sealed; lowered by `rollback()`). */
  get reservedBytes(): number {
    return this.reserved;
  }

  /** True when something is recorded and not yet sealed. */
  get dirty(): boolean {
    return this.ops.length > 0 || this.appends.size > 0;
  }

  /** Starts a new file (part); `newRun` marks the first file of a run. */
  openFile(path: string, newRun: boolean): void {
    this.seal();
    if (newRun) {
      this.part = 0;
      this.parts = [];
    }
    this.ops.push({ op: "open", path });
    this.newRun = newRun;
    this.file = path;
    this.part += 1;
    this.parts.push(path);
    this.created.clear();
    this.created.set("/", "group");
  }

  /** Seals what is recorded with a trailing close of the current file. */
  closeFile(): void {
    this.seal({ op: "close" });
    this.created.clear();
  }

  /** Seals what is recorded with a trailing flush (readers and crashes then see it). */
  flush(): void {
    this.seal({ op: "flush" });
  }

  /** Remembers the recorded state, so that `rollback()` can undo a document that failed half-way. */
  mark(): void {
    const appends = new Map<string, { rows: number; segments: number; last: number; strings: number }>();
    for (const [k, p] of this.appends) {
      appends.set(k, {
        rows: p.rows,
        segments: p.segments.length,
        last: p.segments.at(-1)?.[1] ?? 0,
        strings: p.strings?.length ?? 0,
      });
    }
    this.marked = { ops: this.ops.length, used: this.used, arena: this.arena, appends };
  }

  /**
   * Undoes what was recorded since `mark()`. If a batch was sealed in between (its arena filled), that batch
   * keeps its part of the document (readers use the shortest dataset of a stream) and only the rest is undone.
   */
  rollback(): void {
    const m = this.marked;
    if (!m) return;
    if (m.arena !== this.arena) {
      this.reserved -= this.used; // the sealed batch keeps its part of the document
      this.ops = [];
      this.appends = new Map();
      this.used = 0;
      return;
    }
    this.ops.length = m.ops;
    this.reserved -= this.used - m.used;
    this.used = m.used;
    for (const [k, p] of this.appends) {
      const before = m.appends.get(k);
      if (!before) {
        this.appends.delete(k);
        continue;
      }
      p.rows = before.rows;
      p.segments.length = before.segments;
      const last = p.segments.at(-1);
      if (last) last[1] = before.last;
      if (p.strings) p.strings.length = before.strings;
    }
  }

  /** Drops everything recorded and not yet handed out (after a failure). */
  discard(): void {
    this.pool.give(this.arena?.buffer);
    this.ops = [];
    this.appends = new Map();
    this.arena = undefined;
    this.used = 0;
    this.sealed = [];
    this.newRun = false;
  }

  /** Sealed batches, oldest first. */
  take(): Batch[] {
    const out = this.sealed;
    this.sealed = [];
    return out;
  }

  group(path: string, attrs?: Attrs): void {
    this.create(path, "group");
    this.ops.push(attrs ? { op: "group", path, attrs } : { op: "group", path });
  }

  dataset(path: string, spec: DatasetSpec): void {
    if (!Number.isInteger(spec.chunkRows) || spec.chunkRows < 1) {
      throw new HutchError(ErrorCode.Validation, `${path}: chunkRows must be an integer >= 1`);
    }
    if (spec.type === "string" && spec.rowShape.length > 0) {
      throw new HutchError(ErrorCode.Validation, `${path}: string columns must be scalar (rowShape [])`);
    }
    this.create(path, spec);
    this.ops.push({ op: "dataset", path, spec });
  }

  attrs(path: string, attrs: Attrs): void {
    if (!this.created.has(path))
      throw new HutchError(ErrorCode.Validation, `attrs on ${path}: no such object`);
    this.ops.push({ op: "attrs", path, attrs });
  }

  has(path: string): boolean {
    return this.created.has(path);
  }

  append(path: string, rows: number, data: AppendData): void {
    const spec = this.created.get(path);
    if (!spec || spec === "group") {
      throw new HutchError(ErrorCode.Validation, `append to ${path}: no such dataset in ${this.file}`);
    }
    if (rows === 0) return;
    if (spec.type === "string") {
      if (!Array.isArray(data) || data.length !== rows) {
        throw new HutchError(ErrorCode.Validation, `append to ${path}: expected ${rows} strings`);
      }
      this.pending(path).strings!.push(...(data as string[]));
      this.pending(path).rows += rows;
      return;
    }
    const rowBytes = elementBytes(spec.type) * spec.rowShape.reduce((a, b) => a * b, 1);
    const n = rows * rowBytes;
    const at = this.reserve(n);
    const dst = this.arena!.subarray(at, at + n);
    if (isCompound(spec.type) && !ArrayBuffer.isView(data)) {
      packCompound(path, spec, rows, data as CompoundColumns, dst);
    } else if (typeof spec.type === "object" && "fixedString" in spec.type) {
      packStrings(path, spec.type.fixedString, rows, data as readonly string[], dst);
    } else {
      if (!ArrayBuffer.isView(data)) {
        throw new HutchError(ErrorCode.Validation, `append to ${path}: expected a typed array`);
      }
      const a = data as TypedArray;
      const ok =
        isCompound(spec.type) || spec.type === "bool"
          ? a instanceof Uint8Array || a instanceof Int8Array || isCompound(spec.type)
          : dtypeOf(a) === spec.type;
      if (!ok || a.byteLength !== n) {
        throw new HutchError(
          ErrorCode.Validation,
          `append to ${path}: got ${dtypeOf(a)}[${a.length}], expected ${rows} rows of ${JSON.stringify(spec.type)} x [${spec.rowShape.join(",")}]`,
        );
      }
      dst.set(bytesOf(a));
    }
    const p = this.pending(path);
    const last = p.segments.at(-1);
    if (last && last[0] + last[1] === at) last[1] += n;
    else p.segments.push([at, n]);
    p.rows += rows;
  }

  /** Seals the recorded ops and appends into a batch (with an optional trailing op). */
  seal(trailing?: FileOp): void {
    if (!this.dirty && !trailing) return;
    const ops: FileOp[] = [...this.ops];
    for (const [path, p] of this.appends) {
      ops.push(
        p.strings
          ? { op: "append", path, rows: p.rows, strings: p.strings }
          : { op: "append", path, rows: p.rows, segments: p.segments },
      );
    }
    if (trailing) ops.push(trailing);
    let arena: Arena | undefined;
    if (this.arena && this.used > 0) arena = this.arena.buffer;
    else this.pool.give(this.arena?.buffer);
    this.sealed.push({ id: this.nextId++, ops, arena, ...(this.newRun ? { newRun: true } : {}) });
    this.ops = [];
    this.appends = new Map();
    this.arena = undefined;
    this.used = 0;
    this.newRun = false;
  }

  private create(path: string, what: DatasetSpec | "group"): void {
    if (!path.startsWith("/") || path === "/")
      throw new HutchError(ErrorCode.Validation, `bad path '${path}'`);
    if (this.created.has(path)) throw new HutchError(ErrorCode.Validation, `${path} exists in ${this.file}`);
    const parent = path.slice(0, path.lastIndexOf("/")) || "/";
    if (this.created.get(parent) !== "group") {
      throw new HutchError(ErrorCode.Validation, `${path}: parent group ${parent} does not exist`);
    }
    this.created.set(path, what);
  }

  private pending(path: string): PendingAppend {
    let p = this.appends.get(path);
    if (!p) {
      const spec = this.created.get(path) as DatasetSpec;
      p = { rows: 0, segments: [], strings: spec.type === "string" ? [] : undefined };
      this.appends.set(path, p);
    }
    return p;
  }

  /** Room for `n` bytes in the arena; seals the batch first when it is full. Returns the offset. */
  private reserve(n: number): number {
    if (this.arena && this.used + n > this.arena.byteLength) this.seal();
    if (!this.arena) {
      this.arena = new Uint8Array(this.pool.take(n));
      this.used = 0;
    }
    const at = this.used;
    this.used += n;
    this.reserved += n;
    return at;
  }
}

function packStrings(
  path: string,
  size: number,
  rows: number,
  data: readonly string[],
  dst: Uint8Array,
): void {
  if (!Array.isArray(data) || data.length !== rows) {
    throw new HutchError(ErrorCode.Validation, `append to ${path}: expected ${rows} strings`);
  }
  dst.fill(0);
  for (let i = 0; i < rows; i++) {
    const b = enc.encode(data[i]!);
    if (b.byteLength > size) {
      throw new HutchError(
        ErrorCode.Validation,
        `append to ${path}: '${data[i]}' is longer than ${size} bytes`,
      );
    }
    dst.set(b, i * size);
  }
}

function packCompound(
  path: string,
  spec: DatasetSpec,
  rows: number,
  cols: CompoundColumns,
  dst: Uint8Array,
): void {
  if (!isCompound(spec.type)) return;
  const rowBytes = elementBytes(spec.type);
  let off = 0;
  for (const m of spec.type.compound) {
    const size = elementBytes(m.type);
    const col = cols[m.name];
    if (col === undefined)
      throw new HutchError(ErrorCode.Validation, `append to ${path}: member '${m.name}' missing`);
    let src: Uint8Array;
    if (typeof m.type === "object") {
      src = new Uint8Array(rows * size);
      packStrings(`${path}.${m.name}`, size, rows, col as readonly string[], src);
    } else {
      const a = col as TypedArray;
      if (!ArrayBuffer.isView(a) || dtypeOf(a) !== m.type || a.length !== rows) {
        throw new HutchError(
          ErrorCode.Validation,
          `append to ${path}: member '${m.name}' needs ${m.type}[${rows}]`,
        );
      }
      src = bytesOf(a);
    }
    for (let i = 0; i < rows; i++) {
      const d = i * rowBytes + off;
      const s = i * size;
      for (let b = 0; b < size; b++) dst[d + b] = src[s + b]!;
    }
    off += size;
  }
}
