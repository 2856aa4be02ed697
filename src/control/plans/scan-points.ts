// The points of a PMT position scan: theta 0, then every theta x phi (21 cells for the R12860 stand).
/** One scan point, its grid cell and label. */
export interface ScanPoint {
  readonly cell: number;
  readonly thetaDeg: number;
  readonly phiDeg: number;
  readonly label: string;
}

/**
 * Cell 0 is theta 0 (when `centre`), then theta by theta, phi by phi: 1 + 5 x 4 = 21 points by default.
 * @example scanPoints({ thetasDeg: [10, 20, 30, 40, 50], phisDeg: [0, 90, 180, 270], centre: true }).length === 21
 */
export function scanPoints(o: {
  readonly thetasDeg: readonly number[];
  readonly phisDeg: readonly number[];
  readonly centre: boolean;
}): ScanPoint[] {
  const out: ScanPoint[] = [];
  if (o.centre) out.push({ cell: 0, thetaDeg: 0, phiDeg: 0, label: "θ0" });
  for (const t of o.thetasDeg) {
    for (const p of o.phisDeg) out.push({ cell: out.length, thetaDeg: t, phiDeg: p, label: `θ${t} φ${p}` });
  }
  return out;
}

/** Cell labels in order, for the scan-grid panel's `cells`. */
export function scanLabels(o: Parameters<typeof scanPoints>[0]): string[] {
  return scanPoints(o).map((p) => p.label);
}

/**
 * A scan's directory name: a slug of the serial (anything outside [A-Za-z0-9_.-] becomes '_', no leading '.' or
 * '-', 40 characters at most) and the start time, so every scan of every serial gets its own safe path segment.
 * @example scanName("EA1234; rm -rf ~", new Date(0)) === "EA1234_rm_-rf_-19700101T000000Z"
 */
export function scanName(serial: string, at: Date): string {
  const slug =
    serial
      .replace(/[^A-Za-z0-9_.-]+/g, "_")
      .replace(/^[._-]+/, "")
      .slice(0, 40) || "pmt";
  const t = at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${slug}-${t}`;
}
