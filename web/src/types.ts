// The page's view of what the server sends: panel specs (from the server's zod schema) and frame bodies.
import type { PanelOf, PanelSpec, PanelType } from "../../src/server/panel-schema.js";
import type { FrameNd } from "../../src/server/monitor-frame.js";

export type { PanelOf, PanelSpec, PanelType, FrameNd };

/** Run states, lowest first. */
export type RunState = "ERROR" | "STOP" | "READY" | "PAUSED" | "RUN";

/** A component as `$status` reports it. */
export interface ComponentView {
  name: string;
  type: string;
  state: RunState;
  heartbeatAgeMs: number;
  lost: boolean;
  counters: Record<string, number>;
  lastError?: string;
  placement: string;
  actions: { name: string; description: string }[];
}

/** The `$status` frame body (SystemStatus plus the server's clock). */
export interface StatusView {
  instrument: string;
  state: RunState;
  reason?: string;
  run?: { number: number; uid: string; startedAt: number; counts: Record<string, number> };
  lastRun?: number;
  allowed: string[];
  components: ComponentView[];
  config: Record<string, unknown>;
  now: number;
  error?: string;
}

/** The `$layout` frame body. */
export interface LayoutView {
  instrument: string;
  description: string;
  panels: PanelSpec[];
  maxUpdateHz: number;
  access: { controlNeedsToken: boolean; viewNeedsToken: boolean };
  rois?: { id: string; panel: string; roi: RoiShape; label?: string }[];
}

/** A ROI shape in pixel coordinates. */
export type RoiShape =
  | { kind: "rect"; x0: number; y0: number; x1: number; y1: number }
  | { kind: "polygon"; points: [number, number][] };

/** An alarm as `$alarms` reports it. */
export interface AlarmView {
  id: string;
  source: string;
  severity: "info" | "warning" | "error";
  message: string;
  active: boolean;
  time: number;
  since: number;
  count: number;
}

/** A quality verdict as `$alarms` reports it. */
export interface QualityView {
  source: string;
  field: string;
  value: number | null;
  ok: boolean | null;
  low?: number;
  high?: number;
  t: number;
}

/** The `$alarms` frame body. */
export interface AlarmsBody {
  alarms: AlarmView[];
  quality: QualityView[];
}

/** State colours (CSS variables in styles.css). */
export const STATE_CLASS: Record<RunState, string> = {
  ERROR: "st-error",
  STOP: "st-stop",
  READY: "st-ready",
  PAUSED: "st-paused",
  RUN: "st-run",
};
