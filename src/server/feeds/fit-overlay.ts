// The curve of a fit node's latest result, for drawing over a histogram: given `x`/`y` arrays, or Gaussians.
import { eventArray, scalarAt, type DataDoc } from "../field-values.js";

/** A fit curve plus the fit's scalar results (parameters, errors, chi2, converged) for the legend. */
export interface FitOverlay {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly params: Record<string, number>;
}

const CURVE_POINTS = 200;

/**
 * Reads a fit node's event: `curve` (expected counts per bin) with `edges` is drawn at the bin centres (the
 * analysis fit node); `x` and `y` arrays are a curve as given; otherwise Gaussians are
 * rebuilt from `amplitude`/`mu`/`sigma` (peak height in counts per bin), also with suffixes 1 and 2 for two
 * Gaussians. Every scalar field is returned in `params`.
 */
export function fitOverlay(doc: DataDoc, lo: number, hi: number): FitOverlay | undefined {
  const params: Record<string, number> = {};
  const fields = Object.keys(doc.data);
  const last = doc.kind === "event" ? 0 : doc.n - 1;
  for (const f of fields) {
    const v = scalarAt(doc, f, last);
    if (typeof v === "number") params[f] = v;
  }
  const xs = eventArray(doc, "x");
  const ys = eventArray(doc, "y");
  if (xs && ys && xs.data.length === ys.data.length) {
    return {
      x: Float64Array.from(xs.data as ArrayLike<number>),
      y: Float64Array.from(ys.data as ArrayLike<number>),
      params,
    };
  }
  const curve = eventArray(doc, "curve");
  const edges = eventArray(doc, "edges");
  if (curve && edges && edges.data.length === curve.data.length + 1) {
    const e = edges.data as ArrayLike<number>;
    const x = new Float64Array(curve.data.length);
    for (let i = 0; i < x.length; i++) x[i] = (e[i]! + e[i + 1]!) / 2;
    return { x, y: Float64Array.from(curve.data as ArrayLike<number>), params };
  }
  const peaks: [number, number, number][] = [];
  for (const s of ["", "1", "2"]) {
    const a = params[`amplitude${s}`];
    const mu = params[`mu${s}`];
    const sigma = params[`sigma${s}`];
    if (a !== undefined && mu !== undefined && sigma !== undefined && sigma > 0) peaks.push([a, mu, sigma]);
  }
  if (!peaks.length) return undefined;
  const x = new Float64Array(CURVE_POINTS);
  const y = new Float64Array(CURVE_POINTS);
  for (let i = 0; i < CURVE_POINTS; i++) {
    const xi = lo + ((hi - lo) * i) / (CURVE_POINTS - 1);
    x[i] = xi;
    let v = 0;
    for (const [a, mu, sigma] of peaks) v += a * Math.exp(-0.5 * ((xi - mu) / sigma) ** 2);
    y[i] = v;
  }
  return { x, y, params };
}
