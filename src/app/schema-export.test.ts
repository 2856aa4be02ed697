// docs/schema/ is what `npm run schema` writes from the code: a schema change without regenerating it fails here.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { writeSchemas } from "./schema-export.js";

const dir = mkdtempSync(join(tmpdir(), "hutch-schema-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("docs/schema/ matches the schemas of the code (run `npm run schema` after changing one)", () => {
  const docs = new URL("../../docs/schema/", import.meta.url);
  for (const f of writeSchemas(dir)) {
    const name = basename(f);
    expect(readFileSync(new URL(name, docs), "utf8"), name).toBe(readFileSync(f, "utf8"));
  }
});
