// Test helper: writes an instrument file with free loopback ports into a temp dir.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { freeTcpAddress } from "./ports.js";

/** Writes `instrument.yaml` in a new temp dir; `core` addresses are free ports, dataDir is inside the dir. */
export async function tempInstrument(
  body: Record<string, unknown>,
): Promise<{ dir: string; file: string; control: string; publish: string; collect: string }> {
  const dir = mkdtempSync(join(tmpdir(), "hutch-test-"));
  const control = await freeTcpAddress();
  const publish = await freeTcpAddress();
  const collect = await freeTcpAddress();
  const doc = {
    instrument: "t",
    ...body,
    core: { control, publish, collect, dataDir: "data", ...((body.core as object) ?? {}) },
    server: { enabled: false, ...((body.server as object) ?? {}) },
  };
  const file = join(dir, "instrument.yaml");
  writeFileSync(file, stringify(doc));
  return { dir, file, control, publish, collect };
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function until<T>(
  fn: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
