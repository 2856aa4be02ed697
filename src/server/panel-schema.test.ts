// Panel schema: defaults, ids, spans, heights, errors that name the panel and field.
import { describe, expect, it } from "vitest";
import { PanelsSection, panelStreams, resolvePanels } from "./panel-schema.js";

describe("resolvePanels", () => {
  it("fills ids, titles, spans and heights, and keeps given ones", () => {
    const p = resolvePanels([
      { type: "run-control" },
      {
        type: "histogram",
        id: "peak",
        stream: "waveforms",
        field: "peak",
        range: [0, 10],
        fit: { stream: "fit" },
      },
      { type: "camera-map", stream: "map", field: "pixels", modules: 32, span: 4 },
    ]);
    expect(p.map((x) => x.id)).toEqual(["run-control-0", "peak", "camera-map-2"]);
    expect(p[1]).toMatchObject({ title: "waveforms.peak", span: 6, heightPx: 240, bins: 100, logY: false });
    expect(p[2]).toMatchObject({ span: 4, heightPx: 300, modulePixels: [8, 8], colormap: "viridis" });
    expect(panelStreams(p[1]!)).toEqual(["waveforms", "fit"]);
  });

  it("gives a default page without panels", () => {
    expect(resolvePanels(undefined).map((x) => x.type)).toEqual([
      "run-control",
      "components",
      "rate",
      "alarms",
      "logs",
    ]);
  });

  it("refuses bad panels with the path of the problem", () => {
    const bad = (raw: unknown) => {
      const r = PanelsSection.safeParse(raw);
      return r.success ? "" : `${r.error.issues[0]!.path.join(".")}: ${r.error.issues[0]!.message}`;
    };
    expect(bad([{ type: "histogram", stream: "s", field: "f", range: [5, 1] }])).toMatch(
      /^0\.range: expected \[low, high\]/,
    );
    expect(bad([{ type: "plot3d" }])).toMatch(/^0\.type/);
    expect(bad([{ type: "series", series: [] }])).toMatch(/at least one series/);
    expect(bad([{ type: "rate", colour: "red" }])).toMatch(/colour/);
    expect(() =>
      resolvePanels([
        { type: "logs", id: "a" },
        { type: "alarms", id: "a" },
      ]),
    ).toThrow(/'a' is used twice/);
  });
});
