// Writes JSON Schema for every document kind and for the instrument file (`npm run schema` -> docs/schema/).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { SCHEMAS } from "../core/index.js";
import { InstrumentFile } from "./config.js";

/** Arrays travel as raw frames; in JSON Schema they are the header placeholder described in docs/wire.md. */
const ND_PLACEHOLDER = {
  type: "object",
  description:
    'an array: {dtype, shape, data}; on the wire {"$nd": i} referring to header.arrays[i] and frame 2+i (docs/wire.md)',
  properties: { dtype: { type: "string" }, shape: { type: "array", items: { type: "integer", minimum: 0 } } },
};

const toSchema = (s: z.ZodType): unknown =>
  z.toJSONSchema(s, {
    unrepresentable: "any",
    io: "input",
    override: (ctx) => {
      const meta = (ctx.zodSchema as unknown as { meta?: () => { id?: string } | undefined }).meta?.();
      if (meta?.id === "NdArray") Object.assign(ctx.jsonSchema, ND_PLACEHOLDER);
    },
  });

/** Writes `<kind>.schema.json` per document kind plus `instrument.schema.json`; returns the files written. */
export function writeSchemas(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const [kind, schema] of Object.entries(SCHEMAS)) {
    const f = join(dir, `${kind}.schema.json`);
    writeFileSync(
      f,
      `${JSON.stringify({ $id: `hutch/${kind}`, title: kind, ...(toSchema(schema) as object) }, null, 2)}\n`,
    );
    files.push(f);
  }
  const f = join(dir, "instrument.schema.json");
  writeFileSync(
    f,
    `${JSON.stringify({ $id: "hutch/instrument", title: "instrument file", ...(toSchema(InstrumentFile) as object) }, null, 2)}\n`,
  );
  files.push(f);
  return files;
}
