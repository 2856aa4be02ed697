// The run state machine as one declared table: states, commands, and which command moves which state where.

/** Run states. STOP is start-up; the system state is the lowest state of its components (see STATE_RANK). */
export const RUN_STATES = ["ERROR", "STOP", "READY", "PAUSED", "RUN"] as const;
/** A run state. */
export type RunState = (typeof RUN_STATES)[number];

/** Order used for "lowest state": ERROR < STOP < READY < PAUSED < RUN. */
export const STATE_RANK: Readonly<Record<RunState, number>> = {
  ERROR: 0,
  STOP: 1,
  READY: 2,
  PAUSED: 3,
  RUN: 4,
};

/** Operator commands that move the state. */
export const COMMANDS = ["prepare", "start", "pause", "resume", "stop", "abort", "reset"] as const;
/** An operator command. */
export type Command = (typeof COMMANDS)[number];

/** Component hook called for each command. */
export type Hook = "configure" | "start" | "pause" | "resume" | "stop" | "reset";

/** One row of the transition table. */
export interface Transition {
  readonly from: readonly RunState[];
  readonly command: Command;
  readonly to: RunState;
  readonly hook: Hook;
}

/**
 * The transition table. `prepare` (configure/arm) may be repeated in READY to change the configuration.
 * `stop` ends a run successfully, `abort` ends it with exit status abort; both return to STOP, so each run is
 * prepared (armed) with its own configuration. `reset` clears ERROR.
 */
export const TRANSITIONS: readonly Transition[] = [
  { from: ["STOP", "READY"], command: "prepare", to: "READY", hook: "configure" },
  { from: ["READY"], command: "start", to: "RUN", hook: "start" },
  { from: ["RUN"], command: "pause", to: "PAUSED", hook: "pause" },
  { from: ["PAUSED"], command: "resume", to: "RUN", hook: "resume" },
  { from: ["RUN", "PAUSED"], command: "stop", to: "STOP", hook: "stop" },
  { from: ["RUN", "PAUSED", "READY"], command: "abort", to: "STOP", hook: "stop" },
  { from: ["ERROR", "READY", "STOP"], command: "reset", to: "STOP", hook: "reset" },
];

/** The transition for a command from a state, or undefined when the table does not allow it. */
export function transitionFor(from: RunState, command: Command): Transition | undefined {
  return TRANSITIONS.find((t) => t.command === command && t.from.includes(from));
}

/** Commands allowed from a state. */
export function allowedCommands(from: RunState): Command[] {
  return TRANSITIONS.filter((t) => t.from.includes(from)).map((t) => t.command);
}

/** The lowest of several states (STOP when there are none). */
export function lowestState(states: Iterable<RunState>): RunState {
  let low: RunState | undefined;
  for (const s of states) if (low === undefined || STATE_RANK[s] < STATE_RANK[low]) low = s;
  return low ?? "STOP";
}

/** True when `s` names a run state. */
export function isRunState(s: unknown): s is RunState {
  return typeof s === "string" && (RUN_STATES as readonly string[]).includes(s);
}
