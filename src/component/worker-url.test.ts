// Worker script resolution: beside the module in dist/, the dist/ twin when running from src/, a clear error otherwise.
import { describe, expect, it } from "vitest";
import { workerUrl } from "./worker-url.js";

describe("workerUrl", () => {
  it("finds the compiled worker under dist/ when running from src/ (after npm run build)", () => {
    const url = workerUrl("hdf5-worker.js", new URL("../storage/hdf5-writer.ts", import.meta.url).href);
    expect(url.pathname.endsWith("/dist/storage/hdf5-worker.js")).toBe(true);
  });
  it("finds a sibling when the module itself runs from dist/", () => {
    const base = new URL("../../dist/storage/hdf5-writer.js", import.meta.url).href;
    expect(workerUrl("hdf5-worker.js", base).pathname.endsWith("/dist/storage/hdf5-worker.js")).toBe(true);
  });
  it("says to build when the compiled worker is missing", () => {
    expect(() => workerUrl("no-such-worker.js", import.meta.url)).toThrow(
      /no-such-worker\.js is missing: run `npm run build` first/,
    );
  });
});
