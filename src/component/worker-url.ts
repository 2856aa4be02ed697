// Finds the compiled worker script: beside this module in dist/, or under dist/ when running from src/ (vitest, tsx).
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ErrorCode, HutchError } from "../core/index.js";

/**
 * The URL of a compiled worker module `name` (e.g. `hdf5-worker.js`) next to `base` (an `import.meta.url`).
 * From `dist/` it is the sibling file; from `src/` (TypeScript run by vitest or tsx) it is the same path under
 * `dist/`, which `npm run build` writes. Throws HUTCH_ERR_CONFIG naming the missing file otherwise.
 * @example new Worker(workerUrl("hdf5-worker.js", import.meta.url))
 */
export function workerUrl(name: string, base: string): URL {
  const sibling = new URL(`./${name}`, base);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const path = fileURLToPath(sibling);
  const i = path.lastIndexOf("/src/");
  if (i >= 0) {
    const inDist = `${path.slice(0, i)}/dist/${path.slice(i + 5)}`;
    if (existsSync(inDist)) return pathToFileURL(inDist);
    throw new HutchError(
      ErrorCode.Config,
      `worker script ${inDist} is missing: run \`npm run build\` first (running from src/, workers load compiled code from dist/)`,
    );
  }
  throw new HutchError(
    ErrorCode.Config,
    `worker script ${path} is missing: reinstall or run \`npm run build\``,
  );
}
