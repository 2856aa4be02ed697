// Number, time and duration formatting for the page (compact, fixed-width friendly).

/** A number in 4 significant digits, exponent form when very large or small; "–" for NaN/null. */
export function num(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "-∞";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(digits - 1);
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  return v.toPrecision(digits).replace(/\.?0+$/, "");
}

/** A count with k/M suffixes. */
export function count(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** Seconds as h:mm:ss (or m:ss). */
export function duration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return "0:00";
  const s = Math.floor(sec % 60);
  const m = Math.floor((sec / 60) % 60);
  const h = Math.floor(sec / 3600);
  const pad = (n: number) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

/** Unix seconds as local HH:MM:SS. */
export function clock(t: number): string {
  const d = new Date(t * 1000);
  return d.toLocaleTimeString("en-GB", { hour12: false });
}

/** Milliseconds as "120 ms" / "1.5 s". */
export function ms(v: number): string {
  return v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`;
}
