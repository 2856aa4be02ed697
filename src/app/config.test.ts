import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../core/index.js";
import { componentTypes } from "./component-types.js";
import { loadInstrument } from "./config.js";

const write = (text: string): string => {
  const f = join(mkdtempSync(join(tmpdir(), "hutch-cfg-")), "i.yaml");
  writeFileSync(f, text);
  return f;
};
const errorOf = (text: string): string => {
  try {
    loadInstrument(write(text), componentTypes());
  } catch (e) {
    expect(e).toMatchObject({ code: ErrorCode.Config });
    return (e as Error).message;
  }
  throw new Error("expected a config error");
};

describe("instrument file validation", () => {
  it("accepts the demo instrument and resolves dataDir against the file", () => {
    const cfg = loadInstrument(
      new URL("../../examples/demo.yaml", import.meta.url).pathname,
      componentTypes(),
    );
    expect(cfg.instrument).toBe("demo");
    expect(cfg.core.dataDir).toMatch(/\/var\/demo$/);
    expect(cfg.components[0]!.type).toBe("demo-source");
  });

  it("names the field path, the value and what is expected", () => {
    expect(
      errorOf(
        "instrument: x\ncomponents:\n  - name: a\n    type: demo-source\n    params: { rateHz: fast }\n",
      ),
    ).toMatch(
      /i\.yaml: components\[0\]\.params\.rateHz: Invalid input: expected number, received string \(got "fast"\)/,
    );
    expect(
      errorOf(
        "instrument: x\ncore: { contorl: 'tcp://127.0.0.1:1' }\ncomponents: [{ name: a, type: demo-source }]\n",
      ),
    ).toMatch(/core: Unrecognized key: "contorl"/);
    expect(
      errorOf(
        "instrument: x\ncore: { control: 'localhost:1' }\ncomponents: [{ name: a, type: demo-source }]\n",
      ),
    ).toMatch(
      /core\.control: expected a ZeroMQ address like tcp:\/\/127\.0\.0\.1:5551 \(got "localhost:1"\)/,
    );
    expect(errorOf("instrument: x\ncomponents: [{ name: a, type: camera-9000 }]\n")).toMatch(
      /components\[0\]\.type: unknown component type 'camera-9000'; known: .*demo-source/,
    );
    expect(
      errorOf(
        "instrument: x\ncomponents: [{ name: a, type: demo-source }, { name: a, type: demo-source }]\n",
      ),
    ).toMatch(/components\[1\]\.name: 'a' is used twice/);
    expect(errorOf("instrument: x\ncomponents: []\n")).toMatch(
      /components: an instrument needs at least one component/,
    );
    expect(errorOf("instrument: [x\n")).toMatch(/line \d+: not valid YAML: .*\]/);
    expect(errorOf("components: [{ name: a, type: demo-source }]\n")).toMatch(
      /instrument: Invalid input: expected string/,
    );
  });
});
