// PagePublisher: pages in flight are bounded, drain waits for the slowest subscriber, failures fail the component.
import { describe, expect, it } from "vitest";
import { nowSec, type Document } from "../core/index.js";
import { InprocBus } from "../transport/index.js";
import { PagePublisher } from "./page-publisher.js";

const log = (i: number): Document => ({
  kind: "log",
  time: nowSec(),
  level: "info",
  component: "src",
  message: `page ${i}`,
});

describe("PagePublisher", () => {
  it("is full at maxPending pages not yet taken, and drain resolves once the subscriber took them all", async () => {
    const bus = new InprocBus("demo");
    const sub = bus.subscribe({ prefix: "demo/", overflow: "block", capacity: 1 });
    const fails: string[] = [];
    const pub = new PagePublisher({ bus, fail: (r) => fails.push(r) }, 3, "test: publishing");
    const sent: number[] = [];
    for (let i = 0; i < 5 && !pub.full; i++) {
      pub.publish(log(i));
      sent.push(i);
    }
    expect(pub.full).toBe(true); // the subscriber takes nothing yet: its queue of 1 blocks the rest
    expect(pub.inFlight).toBe(3);
    let drained = false;
    const d = pub.drain().then(() => (drained = true));
    const got: string[] = [];
    for await (const { doc } of sub) {
      got.push((doc as { message: string }).message);
      if (got.length === sent.length) break;
    }
    await d;
    expect(drained).toBe(true);
    expect(got).toEqual(sent.map((i) => `page ${i}`));
    expect(pub.full).toBe(false);
    expect(fails).toEqual([]);
    bus.close();
  });

  it("fails the component, naming what was published, when the bus refuses a page", async () => {
    // a bus whose publish rejects (InprocBus never does: it resolves even once closed)
    const bus = new InprocBus("demo");
    const refusing = Object.assign(Object.create(bus) as InprocBus, {
      publish: () => Promise.reject(new Error("bus is broken")),
    });
    const fails: string[] = [];
    const pub = new PagePublisher(
      { bus: refusing, fail: (r) => fails.push(r) },
      2,
      "larpix: publishing packets",
    );
    pub.publish(log(1));
    await pub.drain();
    expect(fails).toEqual(["larpix: publishing packets failed"]);
    expect(pub.inFlight).toBe(0);
    bus.close();
  });
});
