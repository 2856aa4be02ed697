// The streams an area detector publishes per run: raw frames, background-subtracted frames, the background.
import type { FieldSpec } from "../../core/index.js";

const KIND_CODES = "0 skip, 1 background, 2 data, 3 post-shot background, 4 unexpected";

const common = {
  kind: { dtype: "uint8", shape: [], description: `frame kind: ${KIND_CODES}` },
  frame_index: {
    dtype: "int32",
    shape: [],
    description: "index among the accepted frames of the run, from 0",
  },
  event_number: { dtype: "int32", shape: [], description: "frame_index - num_skip_frames + 1" },
} as const satisfies Record<string, FieldSpec>;

/** `<name>_frames`: every accepted frame (skip frames only when storeSkipFrames), raw uint16. */
export function frameFields(width: number, height: number): Record<string, FieldSpec> {
  return {
    frame: { dtype: "uint16", shape: [height, width], units: "ADU" },
    ...common,
    detector_frame: { dtype: "uint32", shape: [], description: "the detector's own frame counter" },
    trigger: { dtype: "uint32", shape: [], description: "trigger number the detector reported, 0 if none" },
    flags: {
      dtype: "uint32",
      shape: [],
      description: "driver flags: 1 triggered, 2 free-run, 4 shot, 8 fault",
    },
  };
}

/** `<name>_subtracted`: data frames (and post-shot ones with subtractPostShot) minus the background, float32. */
export function subtractedFields(width: number, height: number): Record<string, FieldSpec> {
  return { subtracted: { dtype: "float32", shape: [height, width], units: "ADU" }, ...common };
}

/** `<name>_background`: the background used by the run, one event. */
export function backgroundFields(width: number, height: number): Record<string, FieldSpec> {
  return {
    background: { dtype: "float32", shape: [height, width], units: "ADU" },
    frames: { dtype: "int32", shape: [], description: "background frames combined" },
    method: { dtype: "uint8", shape: [], description: "0 mean, 1 median" },
    origin: {
      dtype: "uint8",
      shape: [],
      description: "0 taken in this run, 1 kept from an earlier run (this run took no background frames)",
    },
    from_run: { dtype: "int32", shape: [], description: "run that took the background frames" },
  };
}
