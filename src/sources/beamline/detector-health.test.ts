import { describe, expect, it } from "vitest";
import { DetectorHealth, type Reading } from "./detector-health.js";

const ok: Reading = { status: "ok" };
const tags = (h: DetectorHealth, from: number, n: number, r: Map<string, Reading>) => {
  const out = [];
  for (let t = from; t < from + 2 * n; t += 2) out.push(...h.observe(t, r));
  return out;
};

describe("DetectorHealth", () => {
  it("names a detector that stops sending mid-run after missingAfterTags tags, and clears when it is back", () => {
    const h = new DetectorHealth(["mpccd1", "mpccd2"], 3);
    expect(
      tags(
        h,
        100,
        5,
        new Map([
          ["mpccd1", ok],
          ["mpccd2", ok],
        ]),
      ),
    ).toEqual([]);
    const gone = tags(h, 110, 3, new Map([["mpccd1", ok]]));
    expect(gone).toHaveLength(1);
    expect(gone[0]).toMatchObject({ name: "mpccd2", active: true });
    expect(gone[0]!.message).toMatch(
      /detector 'mpccd2' stopped sending: no frame since tag 110 \(last frame at tag 108/,
    );
    const s = h.snapshot().find((d) => d.name === "mpccd2")!;
    expect(s).toMatchObject({ state: "missing", frames: 5, missingTags: 3, lastTag: 108, sinceTag: 110 });
    expect(h.snapshot()[0]!.state).toBe("ok");
    const back = tags(
      h,
      116,
      1,
      new Map([
        ["mpccd1", ok],
        ["mpccd2", ok],
      ]),
    );
    expect(back).toEqual([
      { name: "mpccd2", active: false, message: expect.stringMatching(/back at tag 116 after 3/) },
    ]);
  });

  it("tells a detector absent from the start and one reporting an error apart", () => {
    const h = new DetectorHealth(["a", "b"], 2);
    const c = tags(
      h,
      1,
      2,
      new Map<string, Reading>([["b", { status: "error", message: "readout timeout" }]]),
    );
    expect(c.map((x) => x.message)).toEqual([
      expect.stringMatching(/detector 'a' is absent from the beamline stream/),
      expect.stringMatching(/detector 'b' reports an error since tag 1 .*readout timeout/),
    ]);
    expect(h.snapshot().map((d) => d.state)).toEqual(["missing", "error"]);
    expect(tags(h, 5, 3, new Map())).toEqual([]); // raised once, not every tag
    h.reset();
    expect(h.snapshot().map((d) => d.state)).toEqual(["waiting", "waiting"]);
  });
});
