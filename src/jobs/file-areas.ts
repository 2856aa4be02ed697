// Moving a group of files (one scan) between configured areas, atomically, refusing anything outside them.
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
} from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { ErrorCode, HutchError } from "../core/index.js";
import { SafeNameSchema } from "./job-types.js";

/** A file with its size and checksum (the run catalog's RunFile shape). */
export interface AreaFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** Refuses a group name that is not one safe path segment (no '/', no '..', no leading '.' or '-'). */
export function checkGroupName(group: string): string {
  const r = SafeNameSchema.safeParse(group);
  if (!r.success) {
    throw new HutchError(
      ErrorCode.Validation,
      `'${group}' is not a group name: ${r.error.issues[0]!.message}`,
    );
  }
  return group;
}

/** True when `p` is `root` or inside it (both already resolved). */
export function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Moves `<root>/<group>` to `<areaDir>/<group>` with one rename (atomic on one filesystem). Refuses a group
 * name that is not one segment, a source that is a symlink or resolves outside `root`, an area that resolves
 * elsewhere than configured, and an existing destination. Returns undefined when the group has no directory.
 * @example moveDirInto("var/pmt/scans", "EA1234-20250101T120000", "var/pmt/FLAG");
 */
export function moveDirInto(
  root: string,
  group: string,
  areaDir: string,
): { from: string; to: string } | undefined {
  checkGroupName(group);
  const rootReal = realpathSync(resolve(root));
  const from = join(rootReal, group);
  if (!existsSync(from)) return undefined;
  const st = lstatSync(from);
  if (st.isSymbolicLink() || !st.isDirectory()) {
    throw new HutchError(
      ErrorCode.Validation,
      `${from} is not a directory of the work area (a link or a file)`,
    );
  }
  const areaReal = realpathSync(resolve(areaDir));
  if (isInside(rootReal, areaReal) || isInside(areaReal, rootReal)) {
    throw new HutchError(
      ErrorCode.Config,
      `area ${areaReal} and work area ${rootReal} must not contain each other`,
    );
  }
  const to = join(areaReal, group);
  if (dirname(to) !== areaReal) throw new HutchError(ErrorCode.Validation, `${to} is outside ${areaReal}`);
  if (existsSync(to)) throw new HutchError(ErrorCode.Io, `${to} already exists; nothing was moved`);
  try {
    renameSync(from, to);
  } catch (cause) {
    throw new HutchError(ErrorCode.Io, `cannot move ${from} to ${to}: ${(cause as Error).message}`, {
      cause,
    });
  }
  return { from, to };
}

/** Every regular file under `dir` with its size and sha256, sorted by path. */
export function listFiles(dir: string): AreaFile[] {
  const out: AreaFile[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        out.push({
          path: p,
          bytes: statSync(p).size,
          sha256: createHash("sha256").update(readFileSync(p)).digest("hex"),
        });
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}
