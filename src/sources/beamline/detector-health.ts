// Which area detectors are reading out, tag by tag: a detector left out or failing becomes a named status and alarm.

/** What a detector is doing: `waiting` (no tag yet this run), `ok`, `missing` (no frame) or `error` (reports one). */
export const DETECTOR_STATES = ["waiting", "ok", "missing", "error"] as const;
/** A detector state. */
export type DetectorState = (typeof DETECTOR_STATES)[number];

/** The status of one detector, as the source reports it (status action, online access, alarms). */
export interface DetectorStatus {
  readonly name: string;
  readonly state: DetectorState;
  /** Frames received this run. */
  readonly frames: number;
  /** Tags of this run without a frame from it. */
  readonly missingTags: number;
  /** Tag of its newest frame (undefined before the first). */
  readonly lastTag: number | undefined;
  /** First tag of the current gap (missing or error). */
  readonly sinceTag: number | undefined;
  /** One line naming the detector and what is wrong (or that it is fine). */
  readonly message: string;
}

/** An alarm to raise (`active`) or clear for a detector. */
export interface HealthChange {
  readonly name: string;
  readonly active: boolean;
  readonly message: string;
}

/** What a tag says of one detector: absent from it, an error instead of a frame, or a frame. */
export type Reading = { readonly status: "ok" } | { readonly status: "error"; readonly message?: string };

interface Track {
  state: DetectorState;
  frames: number;
  missingTags: number;
  gap: number;
  lastTag: number | undefined;
  sinceTag: number | undefined;
  error: string | undefined;
  message: string;
}

/**
 * Tracks the expected detectors tag by tag. A detector without a frame in `missingAfterTags` consecutive tags
 * (absent from the stream, or reporting an error) changes state and yields an alarm naming it; its first frame
 * after that clears the alarm. Nothing here stops the others.
 * @example
 * const h = new DetectorHealth(["mpccd1", "mpccd2"], 3);
 * for (const c of h.observe(tag, new Map([["mpccd1", { status: "ok" }]]))) ctx.alarm(id(c.name), "error", c.message, c.active);
 */
export class DetectorHealth {
  private readonly tracks = new Map<string, Track>();

  constructor(
    names: readonly string[],
    readonly missingAfterTags = 3,
  ) {
    for (const n of names) this.tracks.set(n, fresh(n));
  }

  /** Forgets everything (a new run). */
  reset(): void {
    for (const n of this.tracks.keys()) this.tracks.set(n, fresh(n));
  }

  /** Takes one tag: `readings` holds the detectors that appear in it. Returns the alarms to raise or clear. */
  observe(tag: number, readings: ReadonlyMap<string, Reading>): HealthChange[] {
    const changes: HealthChange[] = [];
    for (const [name, t] of this.tracks) {
      const r = readings.get(name);
      if (r?.status === "ok") {
        const wasBad = t.state === "missing" || t.state === "error";
        if (wasBad) {
          const message = `detector '${name}' is back at tag ${tag} after ${t.gap} tag(s) without a frame`;
          changes.push({ name, active: false, message });
        }
        t.state = "ok";
        t.frames++;
        t.gap = 0;
        t.lastTag = tag;
        t.sinceTag = undefined;
        t.error = undefined;
        t.message = `detector '${name}' ok (last frame at tag ${tag})`;
        continue;
      }
      t.missingTags++;
      if (t.gap++ === 0) t.sinceTag = tag;
      if (r?.status === "error") t.error = r.message ?? "error without a message";
      if (t.gap < this.missingAfterTags) continue;
      const state: DetectorState = t.error !== undefined ? "error" : "missing";
      const message = describe(name, state, t, this.missingAfterTags);
      if (t.state !== state) {
        t.state = state;
        t.message = message;
        changes.push({ name, active: true, message });
      } else {
        t.message = message;
      }
    }
    return changes;
  }

  /** The status of every detector, in the configured order. */
  snapshot(): DetectorStatus[] {
    return [...this.tracks].map(([name, t]) => ({
      name,
      state: t.state,
      frames: t.frames,
      missingTags: t.missingTags,
      lastTag: t.lastTag,
      sinceTag: t.sinceTag,
      message: t.message,
    }));
  }
}

function fresh(name: string): Track {
  return {
    state: "waiting",
    frames: 0,
    missingTags: 0,
    gap: 0,
    lastTag: undefined,
    sinceTag: undefined,
    error: undefined,
    message: `detector '${name}': no tag yet this run`,
  };
}

function describe(name: string, state: DetectorState, t: Track, after: number): string {
  if (state === "error") {
    return `detector '${name}' reports an error since tag ${t.sinceTag} (${t.gap} tag(s) without a frame): ${t.error}`;
  }
  if (t.lastTag === undefined) {
    return `detector '${name}' is absent from the beamline stream: no frame since tag ${t.sinceTag} (${t.gap} tag(s); alarm after ${after})`;
  }
  return `detector '${name}' stopped sending: no frame since tag ${t.sinceTag} (last frame at tag ${t.lastTag}, ${t.gap} tag(s) without one)`;
}
