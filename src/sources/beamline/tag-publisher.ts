// One run of the beamline source: each tag becomes a point-detector event and one event per detector frame.
import { nd, type FieldSpec, type NdArray, type StreamFactory } from "../../core/index.js";
import type { ComponentContext } from "../../component/index.js";
import { detectorStream, type BeamlineSourceParams } from "./beamline-params.js";
import { DetectorHealth, type Reading } from "./detector-health.js";
import type { TagMessage } from "./tag-message.js";

/**
 * Publishes the tags of one run. Frames come from the receive worker (their memory moved, not copied) and
 * are published as they are (never written to). Missing point detectors read NaN and raise an alarm;
 * detectors are tracked by `DetectorHealth`.
 */
export class TagPublisher {
  readonly health: DetectorHealth;
  lastTag: number | undefined;
  tags = 0;
  missedTags = 0;
  private readonly point: StreamFactory;
  private readonly frames = new Map<string, StreamFactory>();
  private readonly missingPoints = new Set<string>();
  private readonly unexpected = new Set<string>();
  private announced = false;
  /** Tags stamped before this run began (still queued from the last run) are not part of it. */
  private readonly startedSec = Date.now() / 1000;

  constructor(
    private readonly ctx: ComponentContext,
    private readonly p: BeamlineSourceParams,
  ) {
    this.health = new DetectorHealth(
      p.detectors.map((d) => d.name),
      p.missingAfterTags,
    );
    const scalars: Record<string, FieldSpec> = {
      tag: { dtype: "uint32", shape: [], source: "beamline:tag", description: "tag number of the pulse" },
    };
    for (const name of p.points) scalars[name] = { dtype: "float64", shape: [], source: `beamline:${name}` };
    if (p.delay) {
      scalars.delay = {
        dtype: "float64",
        shape: [],
        units: "ps",
        description: `${p.delay.motor} x ${p.delay.scale} - ${p.delay.t0Ps}`,
      };
    }
    const pointFields: Record<string, FieldSpec> = { ...scalars };
    for (const d of p.detectors) {
      pointFields[`${d.name}_ok`] = {
        dtype: "uint8",
        shape: [],
        description: `1 when detector '${d.name}' read out for this tag`,
      };
    }
    this.point = ctx.stream(p.pointStream, pointFields);
    for (const d of p.detectors) {
      const fields: Record<string, FieldSpec> = {
        frame: { dtype: "float32", shape: [d.height, d.width], units: "adu", source: `beamline:${d.name}` },
        gain: { dtype: "float64", shape: [], description: "calibrated value = frame x gain" },
        ...(p.carry ? scalars : {}),
      };
      this.frames.set(d.name, ctx.stream(detectorStream(d), fields));
    }
  }

  /** Publishes one tag (the descriptors first, at the run's first tag). */
  async publish(msg: TagMessage): Promise<void> {
    const c = this.ctx.counters;
    if (msg.time < this.startedSec) {
      c.inc("tags_before_run");
      return;
    }
    if (!this.announced) {
      this.announced = true;
      await this.ctx.bus.publish(this.point.descriptor);
      for (const s of this.frames.values()) await this.ctx.bus.publish(s.descriptor);
    }
    this.countTag(msg.tag);
    const time = Float64Array.of(msg.time);
    const scalars: Record<string, NdArray> = { tag: nd(Uint32Array.of(msg.tag)) };
    for (const name of this.p.points) scalars[name] = nd(Float64Array.of(this.pointValue(msg, name)));
    if (this.p.delay) {
      const pos = msg.points[this.p.delay.motor] ?? NaN;
      scalars.delay = nd(Float64Array.of(pos * this.p.delay.scale - this.p.delay.t0Ps));
    }
    const readings = new Map<string, Reading>();
    const ok: Record<string, NdArray> = {};
    const out: [StreamFactory, Record<string, NdArray>][] = [];
    for (const d of msg.detectors) {
      const spec = this.p.detectors.find((x) => x.name === d.name);
      if (!spec) {
        this.warnUnexpected(d.name);
        continue;
      }
      const f = d.frame;
      if (d.status !== "ok" || !f) {
        readings.set(d.name, { status: "error", message: d.message ?? "the detector reports an error" });
        continue;
      }
      if (f.shape[0] !== spec.height || f.shape[1] !== spec.width) {
        c.inc(`invalid_frames_${d.name}`);
        const message = `frame of [${f.shape.join(",")}], expected [${spec.height},${spec.width}]`;
        readings.set(d.name, { status: "error", message });
        continue;
      }
      readings.set(d.name, { status: "ok" });
      c.inc(`frames_${d.name}`);
      out.push([
        this.frames.get(d.name)!,
        {
          frame: nd(f.data as Float32Array, [1, spec.height, spec.width]),
          gain: nd(Float64Array.of(d.gain)),
          ...(this.p.carry ? scalars : {}),
        },
      ]);
    }
    for (const d of this.p.detectors) {
      const present = readings.get(d.name)?.status === "ok";
      ok[`${d.name}_ok`] = nd(Uint8Array.of(present ? 1 : 0));
      if (!present) c.inc(`missing_${d.name}`);
    }
    for (const ch of this.health.observe(msg.tag, readings)) {
      this.ctx.alarm(`${this.ctx.name}:detector:${ch.name}`, "error", ch.message, ch.active);
      if (ch.active) this.ctx.log.error(ch.message);
      else this.ctx.log.info(ch.message);
    }
    await this.ctx.bus.publish(this.point.page(time, { ...scalars, ...ok }));
    for (const [s, data] of out) await this.ctx.bus.publish(s.page(time, data));
  }

  /** Clears the alarms this run raised (the run is over; the next one re-checks). */
  clearAlarms(reason: string): void {
    for (const d of this.health.snapshot()) {
      if (d.state === "missing" || d.state === "error")
        this.ctx.alarm(`${this.ctx.name}:detector:${d.name}`, "error", `${d.message} (${reason})`, false);
    }
    for (const name of this.missingPoints)
      this.ctx.alarm(
        `${this.ctx.name}:point:${name}`,
        "warning",
        `point detector '${name}' (${reason})`,
        false,
      );
  }

  private countTag(tag: number): void {
    const c = this.ctx.counters;
    this.tags++;
    c.inc("tags");
    const last = this.lastTag;
    if (last !== undefined) {
      if (tag <= last) c.inc("out_of_order");
      else {
        const missed = Math.round((tag - last) / this.p.tagStep) - 1;
        if (missed > 0) {
          this.missedTags += missed;
          c.inc("missed_tags", missed);
        }
      }
    }
    if (last === undefined || tag > last) this.lastTag = tag;
    c.set("last_tag", this.lastTag ?? 0);
  }

  private pointValue(msg: TagMessage, name: string): number {
    const v = msg.points[name];
    const id = `${this.ctx.name}:point:${name}`;
    if (v === undefined) {
      if (!this.missingPoints.has(name)) {
        this.missingPoints.add(name);
        this.ctx.alarm(id, "warning", `point detector '${name}' is missing from tag ${msg.tag} (reads NaN)`);
      }
      this.ctx.counters.inc(`missing_${name}`);
      return NaN;
    }
    if (this.missingPoints.delete(name))
      this.ctx.alarm(id, "warning", `point detector '${name}' is back at tag ${msg.tag}`, false);
    return v;
  }

  private warnUnexpected(name: string): void {
    this.ctx.counters.inc("unexpected_frames");
    if (this.unexpected.has(name)) return;
    this.unexpected.add(name);
    this.ctx.log.warn(`detector '${name}' is in the beamline stream but not in params.detectors (ignored)`);
  }
}
