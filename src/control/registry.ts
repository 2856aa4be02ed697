// The core's view of registered components: links, states, heartbeats, pending requests to each.
import { ErrorCode, HutchError, type RunState } from "../core/index.js";
import type { ComponentToCore, CoreToComponent, HelloMsg, Link } from "../component/index.js";
import type { ComponentStatus, Progress } from "./api-types.js";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A request in flight to a component. */
interface Pending {
  readonly onProgress: (p: Progress) => void;
  readonly resolve: (data: unknown) => void;
  readonly reject: (e: HutchError) => void;
  readonly timer: NodeJS.Timeout;
}

/** One registered component. */
export class ComponentEntry {
  state: RunState;
  lastHbMs: number;
  counters: Record<string, number> = {};
  lost = false;
  lastError: string | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    readonly hello: HelloMsg,
    readonly link: Link<CoreToComponent, ComponentToCore>,
    nowMs: number,
  ) {
    this.state = hello.state;
    this.lastHbMs = nowMs;
  }

  get name(): string {
    return this.hello.name;
  }

  /**
   * Sends a hook or action and resolves with its result; rejects on error, on timeout (HUTCH_ERR_TIMEOUT) or
   * at once when the component is (or becomes) lost (HUTCH_ERR_COMPONENT_LOST).
   */
  request(
    msg: DistributiveOmit<Exclude<CoreToComponent, { t: "welcome" } | { t: "rehello" }>, "id">,
    timeoutMs: number,
    onProgress: (p: Progress) => void = () => undefined,
  ): Promise<unknown> {
    if (this.lost) {
      return Promise.reject(
        new HutchError(ErrorCode.ComponentLost, `component '${this.name}' is lost (no heartbeat)`),
      );
    }
    const id = this.nextId++;
    const what = msg.t === "hook" ? `${msg.hook}` : `action '${msg.action}'`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HutchError(ErrorCode.Timeout, `'${this.name}' ${what}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { onProgress, resolve, reject, timer });
      this.link.send({ ...msg, id } as CoreToComponent);
    });
  }

  /** Routes a reply to its pending request; replies to unknown ids (late, after a timeout) are dropped. */
  reply(m: Extract<ComponentToCore, { t: "reply" }>): boolean {
    const p = this.pending.get(m.id);
    if (!p) return false;
    if (m.type === "progress") {
      p.onProgress({ type: "progress", message: m.message, data: m.data });
      return true;
    }
    clearTimeout(p.timer);
    this.pending.delete(m.id);
    if (m.type === "result") p.resolve(m.data);
    else p.reject(new HutchError(m.code, m.message));
    return true;
  }

  /** Marks the component lost and fails everything pending on it at once. */
  markLost(reason: string): void {
    this.lost = true;
    this.state = "ERROR";
    this.lastError = reason;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new HutchError(ErrorCode.ComponentLost, `component '${this.name}' lost: ${reason}`));
      this.pending.delete(id);
    }
  }

  status(nowMs: number): ComponentStatus {
    return {
      name: this.name,
      type: this.hello.type,
      state: this.lost ? "ERROR" : this.state,
      heartbeatAgeMs: nowMs - this.lastHbMs,
      lost: this.lost,
      counters: this.counters,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      actions: this.hello.actions,
      placement: this.hello.placement,
    };
  }
}
