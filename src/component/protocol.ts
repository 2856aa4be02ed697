// Messages between components, operators and the run-control core (plain objects; msgpack over ZeroMQ).
import type { Command, ErrorCode, Hook, LogLevel, RunInfo, RunState, StopReport } from "../core/index.js";

/** A component introduces itself. */
export interface HelloMsg {
  readonly t: "hello";
  readonly name: string;
  readonly type: string;
  readonly role: "source" | "stage" | "sink";
  readonly heartbeatMs: number;
  readonly actions: { name: string; description: string }[];
  readonly placement: string;
  readonly state: RunState;
}

/** Every `heartbeatMs`: alive, with state and counters. */
export interface HeartbeatMsg {
  readonly t: "hb";
  readonly state: RunState;
  readonly counters: Record<string, number>;
  readonly error?: string;
}

/** A log line for the core to publish. */
export interface LogMsg {
  readonly t: "log";
  readonly time: number;
  readonly level: LogLevel;
  readonly message: string;
  readonly fields?: Record<string, unknown>;
}

/** A fault found outside a hook, or a request for a run command. */
export interface FailMsg {
  readonly t: "fail";
  readonly reason: string;
}
export interface RequestMsg {
  readonly t: "request";
  readonly command: "pause" | "stop" | "abort";
  readonly reason: string;
}

/** A reply to a request with the same `id`: progress lines then one result or error. */
export type ReplyMsg =
  | {
      readonly t: "reply";
      readonly id: number;
      readonly type: "progress";
      readonly message: string;
      readonly data?: unknown;
    }
  | { readonly t: "reply"; readonly id: number; readonly type: "result"; readonly data?: unknown }
  | {
      readonly t: "reply";
      readonly id: number;
      readonly type: "error";
      readonly code: ErrorCode;
      readonly message: string;
    };

/** Clean shutdown of a component. */
export interface ByeMsg {
  readonly t: "bye";
}

/** Component -> core. */
export type ComponentToCore = HelloMsg | HeartbeatMsg | LogMsg | FailMsg | RequestMsg | ReplyMsg | ByeMsg;

/** Core -> component: run a hook or an action. */
export type CoreToComponent =
  | {
      readonly t: "hook";
      readonly id: number;
      readonly hook: Hook;
      readonly config?: Record<string, unknown>;
      readonly run?: RunInfo;
    }
  | { readonly t: "action"; readonly id: number; readonly action: string; readonly params: unknown }
  | { readonly t: "welcome"; readonly instrument: string }
  /** The core does not know this peer (it restarted): introduce yourself again. */
  | { readonly t: "rehello" };

/** Operator -> core. */
export type OperatorRequest =
  | {
      readonly t: "op";
      readonly id: number;
      readonly op: "command";
      readonly command: Command;
      readonly params?: Record<string, unknown>;
      readonly timeoutMs?: number;
    }
  | {
      readonly t: "op";
      readonly id: number;
      readonly op: "call";
      readonly component: string;
      readonly action: string;
      readonly params?: unknown;
      readonly timeoutMs?: number;
    }
  | {
      readonly t: "op";
      readonly id: number;
      readonly op: "replay";
      readonly files: string[];
      readonly speed?: number;
      readonly timeoutMs?: number;
    }
  | { readonly t: "op"; readonly id: number; readonly op: "status" | "runs" }
  | { readonly t: "op"; readonly id: number; readonly op: "logs"; readonly last?: number };

/** Result data of a stop hook. */
export type StopResult = StopReport | undefined;

/** A two-way message channel between a component (or operator) and the core. */
export interface Link<Out, In> {
  send(msg: Out): void;
  /** Sets the handler for incoming messages (one). */
  onMessage(fn: (msg: In) => void): void;
  close(): void;
}
