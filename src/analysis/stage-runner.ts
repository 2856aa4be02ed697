// Runs an analysis stage: input subscription per run, batches to the stage's logic, results published at a set rate.
import {
  RateLimiter,
  nowSec,
  toHutchError,
  type Document,
  type Event,
  type FieldSpec,
  type NdArray,
  type RunInfo,
  type StreamFactory,
} from "../core/index.js";
import type { ActionDef, ComponentContext, ComponentHooks } from "../component/index.js";
import type { Subscription } from "../transport/index.js";
import { InputBatch } from "./input-batch.js";
import type { StageParams } from "./stage-params.js";

/** What a stage publishes at one publish tick: one event, a page of events, and/or other documents. */
export interface StageOutput {
  readonly event?: { readonly data: Event["data"]; readonly time?: number };
  readonly page?: { readonly time: Float64Array; readonly data: Record<string, NdArray> };
  /** Documents that are not events of the output stream (e.g. `quality`). */
  readonly docs?: readonly Document[];
}

/** The computation of one stage during one run. */
export interface StageLogic {
  /** Fields of the output stream; undefined until known (e.g. an image shape seen in the first batch). */
  fields(): Record<string, FieldSpec> | undefined;
  /** Takes one input document. Throwing counts the batch as invalid; the stage goes on. */
  process(batch: InputBatch): void;
  /** What to publish now; undefined when nothing changed. `final` is the last call of the run. */
  output(final: boolean): StageOutput | undefined;
}

/**
 * The run loop shared by the analysis stages. Per run it subscribes to `<instrument>/<input>/` with the stage's
 * overflow policy, hands each event or page to the logic, and publishes the logic's output every
 * `publishIntervalMs` (0: after every input document) and once more when the run stops. Counters: `received`
 * (events), `batches`, `skipped` (documents the queue dropped), `invalid`, `published`, `other_run`.
 * A field the logic asks for and the stream lacks raises an alarm `<name>:missing:<field>`, cleared when it
 * comes back.
 */
export class StageRunner {
  private sub: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private out: StreamFactory | undefined;
  private outKey = "";
  private logicNow: StageLogic | undefined;
  private runUid: string | undefined;
  private readonly missing = new Set<string>();
  private readonly warnLimit = new RateLimiter(5, 10_000);

  constructor(
    private readonly ctx: ComponentContext,
    private readonly params: () => StageParams,
    private readonly makeLogic: (run: RunInfo) => StageLogic,
  ) {}

  /** The logic of the current run (undefined outside a run). */
  get logic(): StageLogic | undefined {
    return this.logicNow;
  }

  /** The output stream name. */
  get outputName(): string {
    return this.params().output ?? this.ctx.name;
  }

  /** Subscribes and starts consuming; returns at once. */
  start(run: RunInfo): void {
    const p = this.params();
    this.runUid = run.uid;
    this.out = undefined;
    this.logicNow = this.makeLogic(run);
    const sub = this.ctx.bus.subscribe({
      prefix: `${this.ctx.instrument}/${p.input}/`,
      overflow: p.overflow,
      capacity: p.capacity,
      name: `${this.ctx.name}:input`,
    });
    this.sub = sub;
    this.loop = this.consume(sub, p.publishIntervalMs === 0);
    if (p.publishIntervalMs > 0) {
      this.timer = setInterval(() => this.tick(), p.publishIntervalMs);
    }
  }

  /** Drains what is queued, publishes the final result and ends the run. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sub?.close();
    await this.loop;
    await this.ticking;
    if (this.logicNow) await this.publish(true);
    this.loop = undefined;
    this.sub = undefined;
    this.logicNow = undefined;
    this.runUid = undefined;
  }

  /** Publishes now (used by actions that change what the stage shows). */
  async publishNow(): Promise<void> {
    await this.ticking;
    if (this.logicNow) await this.publish(false);
  }

  /** Leaves a run without publishing (reset after a failure). */
  abandon(): void {
    this.close();
    this.logicNow = undefined;
    this.runUid = undefined;
  }

  /** Releases the subscription and timer without publishing. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sub?.close();
  }

  private tick(): void {
    if (this.ticking || !this.logicNow) return;
    this.ticking = this.publish(false).finally(() => {
      this.ticking = undefined;
    });
  }

  private async consume(sub: Subscription, publishEach: boolean): Promise<void> {
    const c = this.ctx.counters;
    for await (const { doc } of sub) {
      if (doc.kind !== "event" && doc.kind !== "event-page") continue;
      c.set("skipped", sub.stats.dropped);
      if (doc.runUid !== this.runUid) {
        c.inc("other_run");
        continue;
      }
      const batch = new InputBatch(doc);
      try {
        this.logicNow?.process(batch);
        c.inc("received", batch.n);
        c.inc("batches");
      } catch (err) {
        c.inc("invalid");
        if (this.warnLimit.take()) {
          this.ctx.log.warn(
            `${this.ctx.name}: batch seq ${batch.seq} of '${batch.stream}' rejected: ${toHutchError(err).message}`,
          );
        }
      }
      this.trackMissing(batch);
      if (publishEach) await this.publish(false);
    }
    c.set("skipped", sub.stats.dropped);
  }

  private trackMissing(batch: InputBatch): void {
    const input = this.params().input;
    for (const f of batch.missing) {
      if (this.missing.has(f)) continue;
      this.missing.add(f);
      this.ctx.counters.inc("missing_fields");
      this.ctx.alarm(
        `${this.ctx.name}:missing:${f}`,
        "warning",
        `${this.ctx.name}: field '${f}' is missing from stream '${input}'`,
      );
    }
    for (const f of batch.present) {
      if (!this.missing.delete(f)) continue;
      this.ctx.alarm(
        `${this.ctx.name}:missing:${f}`,
        "warning",
        `${this.ctx.name}: field '${f}' is back in stream '${input}'`,
        false,
      );
    }
  }

  private async publish(final: boolean): Promise<void> {
    const logic = this.logicNow;
    if (!logic) return;
    try {
      const o = logic.output(final);
      if (!o) return;
      if (o.event || o.page) {
        const stream = await this.stream(logic);
        if (stream && o.event)
          await this.ctx.bus.publish(stream.event(o.event.data, o.event.time ?? nowSec()));
        if (stream && o.page && o.page.time.length > 0)
          await this.ctx.bus.publish(stream.page(o.page.time, o.page.data));
      }
      for (const d of o.docs ?? []) await this.ctx.bus.publish(d);
      this.ctx.counters.inc("published");
    } catch (err) {
      this.ctx.fail(`${this.ctx.name}: publishing '${this.outputName}' failed`, err);
    }
  }

  private async stream(logic: StageLogic): Promise<StreamFactory | undefined> {
    const fields = logic.fields();
    if (!fields) return undefined;
    // A new descriptor whenever the fields change (a ROI added, a histogram rebinned); they are small.
    const key = JSON.stringify(fields);
    if (this.out && key === this.outKey) return this.out;
    this.outKey = key;
    const p = this.params();
    this.out = this.ctx.stream(this.outputName, fields, {
      configuration: { input: p.input, component: this.ctx.name },
    });
    await this.ctx.bus.publish(this.out.descriptor);
    return this.out;
  }
}

/** A stage's live state, for actions that change it while it runs. */
export interface Stage<P extends StageParams> {
  /** The params in force (instrument file + per-run overrides + live changes). */
  params: P;
  readonly runner: StageRunner;
}

/**
 * The hooks of an analysis stage component: configure takes the (validated) params for the next run, start and
 * stop drive the runner, reset abandons a failed run, close releases everything.
 * @example create: (params, ctx) => stageHooks(params, ctx, (p) => new HistogramLogic(p)),
 */
export function stageHooks<P extends StageParams>(
  initial: P,
  ctx: ComponentContext,
  makeLogic: (params: P, run: RunInfo) => StageLogic,
  actions?: (stage: Stage<P>) => Record<string, ActionDef<never>>,
): ComponentHooks {
  const holder: { params: P } = { params: initial };
  const runner = new StageRunner(
    ctx,
    () => holder.params,
    (run) => makeLogic(holder.params, run),
  );
  const stage: Stage<P> = {
    get params() {
      return holder.params;
    },
    set params(p: P) {
      holder.params = p;
    },
    runner,
  };
  return {
    configure: (config) => {
      holder.params = config as P; // validated against the component's schema by the host
    },
    start: (run) => runner.start(run),
    stop: () => runner.stop(),
    reset: () => runner.abandon(),
    close: () => runner.close(),
    ...(actions ? { actions: actions(stage) } : {}),
  };
}
