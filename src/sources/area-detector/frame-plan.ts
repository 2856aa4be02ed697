// The frame plan of an armed acquisition: frames classified by trigger count into skip, background, data, post-shot.
import type { ArmMessage } from "../../codecs/index.js";

/** What a frame is, by its position in the run; codes stored in run files as `kind` (uint8). */
export const FrameKind = {
  skip: 0,
  background: 1,
  data: 2,
  postBackground: 3,
  unexpected: 4,
} as const;
/** A frame kind code. */
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Names of the kind codes, index = code. */
export const FRAME_KIND_NAMES = ["skip", "background", "data", "post_background", "unexpected"] as const;

/** The counts of an arm message that make a plan. */
export type FramePlanCounts = Pick<
  ArmMessage,
  "num_skip_frames" | "num_background_frames" | "num_data_frames" | "num_post_background_frames"
>;

/** One classified frame. */
export interface FrameSlot {
  readonly kind: FrameKind;
  /** Index of the frame among the accepted frames of the run, from 0. */
  readonly frameIndex: number;
  /** frameIndex - num_skip_frames + 1: 1 for the first background frame; <= 0 for skip frames. */
  readonly eventNumber: number;
}

/**
 * Classifies accepted frames by counting, as PyLAD did: skip, then background, data, post-shot background;
 * anything after the plan is `unexpected` (counted, never taken for data).
 * @example const plan = new FramePlan(arm); const slot = plan.next(); if (plan.complete) ...
 */
export class FramePlan {
  private n = 0;
  /** Frames seen of each kind, index = kind code. */
  readonly seen = [0, 0, 0, 0, 0];
  private readonly bounds: readonly number[];

  constructor(readonly counts: FramePlanCounts) {
    const s = counts.num_skip_frames;
    const b = s + counts.num_background_frames;
    const d = b + counts.num_data_frames;
    this.bounds = [s, b, d, d + counts.num_post_background_frames];
  }

  /** Frames the plan expects in all. */
  get expected(): number {
    return this.bounds[3]!;
  }

  /** Frames classified so far (unexpected ones included). */
  get frames(): number {
    return this.n;
  }

  /** True once every expected frame has arrived. */
  get complete(): boolean {
    return this.n >= this.expected;
  }

  /** True once the last background frame has arrived (or the plan has none). */
  get backgroundsDone(): boolean {
    return this.n >= this.bounds[1]!;
  }

  /** Classifies the next accepted frame. */
  next(): FrameSlot {
    const i = this.n++;
    const [s, b, d, p] = this.bounds as [number, number, number, number];
    const kind: FrameKind =
      i < s
        ? FrameKind.skip
        : i < b
          ? FrameKind.background
          : i < d
            ? FrameKind.data
            : i < p
              ? FrameKind.postBackground
              : FrameKind.unexpected;
    this.seen[kind]!++;
    return { kind, frameIndex: i, eventNumber: i - s + 1 };
  }

  /** What is missing, for the log and the relay ("Did not receive all expected frames!"). */
  describeMissing(): string {
    const want = [
      this.counts.num_skip_frames,
      this.counts.num_background_frames,
      this.counts.num_data_frames,
      this.counts.num_post_background_frames,
    ];
    const parts = want
      .map((w, k) => (this.seen[k]! < w ? `${FRAME_KIND_NAMES[k]} ${this.seen[k]}/${w}` : ""))
      .filter(Boolean);
    return parts.length ? parts.join(", ") : "nothing";
  }
}
