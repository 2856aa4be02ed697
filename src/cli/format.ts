// Terminal formatting for the CLI: documents as JSON lines, tables, durations.
import type { Document } from "../core/index.js";

/** Converts a document to plain JSON: arrays as {dtype, shape, data} (first `maxItems` values unless full). */
export function docToJson(doc: Document, maxItems = 16): unknown {
  const conv = (v: unknown): unknown => {
    if (typeof v === "bigint") return v.toString();
    if (Array.isArray(v)) return v.map(conv);
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (ArrayBuffer.isView(o.data) && typeof o.dtype === "string" && Array.isArray(o.shape)) {
        const arr = o.data as unknown as ArrayLike<number | bigint>;
        const n = Math.min(arr.length, maxItems);
        const data: unknown[] = [];
        for (let i = 0; i < n; i++) data.push(conv(arr[i]));
        return arr.length > n
          ? { dtype: o.dtype, shape: o.shape, data, truncated: arr.length - n }
          : { dtype: o.dtype, shape: o.shape, data };
      }
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(o)) out[k] = conv(x);
      return out;
    }
    return v;
  };
  return conv(doc);
}

/** A plain-text table with left-aligned columns. */
export function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(w[i]!))
      .join("  ")
      .trimEnd();
  return [line(header), line(w.map((n) => "-".repeat(n))), ...rows.map(line)].join("\n");
}

/** `1h 02m 03s` style duration from seconds. */
export function duration(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h
    ? `${h}h ${String(m).padStart(2, "0")}m ${String(r).padStart(2, "0")}s`
    : m
      ? `${m}m ${String(r).padStart(2, "0")}s`
      : `${r}s`;
}

/** Unix seconds as a local ISO-like time. */
export function when(sec: number | undefined): string {
  return sec === undefined ? "-" : new Date(sec * 1000).toISOString().replace("T", " ").slice(0, 19);
}

/** Counts as `stream=n, ...`. */
export function counts(c: Record<string, number>): string {
  const e = Object.entries(c);
  return e.length ? e.map(([k, v]) => `${k}=${v}`).join(", ") : "-";
}
