// Test helper: runs /usr/bin/python3 (Debian's h5py, numpy) scripts, and dumps HDF5 files exactly as h5py sees them.
import { spawn, type ChildProcess } from "node:child_process";

/** Debian's python, which sees python3-h5py (the `python3` first on PATH may not). */
export const PYTHON = "/usr/bin/python3";

/** Runs a Python script (source text) with arguments; resolves with stdout, rejects with stderr on failure. */
export function runPython(
  script: string,
  args: string[] = [],
  opts: { timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, ["-c", script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (b: Buffer) => (out += b.toString()));
    p.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs ?? 20_000);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`python exited with ${code}: ${err.trim().split("\n").slice(-3).join(" | ")}`));
    });
  });
}

/** Starts a long-running Python script; the caller reads its stdout lines and must kill it. */
export function spawnPython(script: string, args: string[] = []): ChildProcess {
  return spawn(PYTHON, ["-u", "-c", script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * An attribute as h5py reads it: stored dtype (numpy `<i8`, `<f8`, `|u1`..., or `vlen-utf-8` / `fixed-ascii` for
 * strings), shape, value (arrays as lists, bytes decoded).
 */
export interface H5Attr {
  readonly dtype: string;
  readonly shape: number[];
  readonly value: unknown;
}

/** A dataset as h5py reads it; numeric data as the hex of its little-endian bytes, strings decoded. */
export interface H5Dataset {
  readonly dtype: string;
  readonly shape: number[];
  readonly maxshape: (number | null)[];
  readonly chunks: number[] | null;
  readonly compression: string | null;
  readonly compression_opts: number | null;
  readonly attrs: Record<string, H5Attr>;
  readonly hex?: string;
  readonly strings?: string[];
  readonly rows?: unknown[];
}

/** Everything in a file: root attributes, groups (with attributes) and datasets, by absolute path. */
export interface H5Dump {
  readonly attrs: Record<string, H5Attr>;
  readonly groups: Record<string, { attrs: Record<string, H5Attr> }>;
  readonly datasets: Record<string, H5Dataset>;
}

const DUMP = String.raw`
import sys, json, h5py, numpy as np
path, swmr = sys.argv[1], sys.argv[2] == "1"
def conv(v):
    if isinstance(v, bytes): return v.decode("utf-8")
    if isinstance(v, np.ndarray): return [conv(x) for x in v.tolist()] if v.dtype.kind not in "SO" else [conv(x) for x in v]
    if isinstance(v, (list, tuple)): return [conv(x) for x in v]
    if isinstance(v, np.generic): return conv(v.item())
    return v
def kind(dt):
    s = h5py.check_string_dtype(dt)
    if s is not None: return ("vlen-" if s.length is None else "fixed-") + s.encoding
    return dt.str
def attrs(o):
    out = {}
    for k in o.attrs:
        v = o.attrs[k]
        aid = o.attrs.get_id(k)
        out[k] = {"dtype": kind(aid.dtype), "shape": list(aid.shape), "value": conv(v)}
    return out
f = h5py.File(path, "r", swmr=swmr)
dump = {"attrs": attrs(f), "groups": {}, "datasets": {}}
def visit(name, o):
    p = "/" + name
    if isinstance(o, h5py.Group):
        dump["groups"][p] = {"attrs": attrs(o)}
        return
    d = {"dtype": kind(o.dtype) if o.dtype.names is None else str(o.dtype),
         "shape": list(o.shape), "maxshape": list(o.maxshape), "chunks": list(o.chunks) if o.chunks else None,
         "compression": o.compression, "compression_opts": o.compression_opts, "attrs": attrs(o)}
    if h5py.check_string_dtype(o.dtype) is not None and o.dtype.kind == "O":
        d["strings"] = [s for s in o.asstr()[()]] if o.shape[0] else []
    elif o.dtype.names is not None:
        d["rows"] = conv(o[()].tolist()) if o.shape[0] else []
        d["hex"] = o[()].tobytes().hex()
    else:
        d["hex"] = np.ascontiguousarray(o[()]).astype(o.dtype.newbyteorder("<")).tobytes().hex()
    dump["datasets"][p] = d
f.visititems(visit)
print(json.dumps(dump))
`;

/** Reads a whole file with h5py (`swmr` opens it as a SWMR reader, as while it is written). */
export async function h5dump(path: string, opts: { swmr?: boolean } = {}): Promise<H5Dump> {
  return JSON.parse(await runPython(DUMP, [path, opts.swmr ? "1" : "0"])) as H5Dump;
}

/** Hex of a typed array's bytes, to compare with {@link H5Dataset.hex}. */
export function hexOf(a: ArrayBufferView): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex");
}
