// A RemoteStore on a local (or mounted) file system: the fallback backend, and the reference the SSH one is tested against.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { chmod, chown, mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ErrorCode, HutchError } from "../../core/index.js";
import type { RemoteProbe, RemoteStore, SealResult } from "./remote-store.js";

const io = (what: string, path: string, err: unknown): HutchError =>
  new HutchError(ErrorCode.Io, `local store: ${what} ${path}: ${(err as Error).message}`, { cause: err });

const getent = (key: string): string[] => {
  try {
    return execFileSync("getent", ["group", key], { encoding: "utf8" }).trim().split(":");
  } catch {
    return [];
  }
};

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw io("cannot stat", path, err);
  }
}

/**
 * Files on this machine's file system (e.g. an NFS mount of the archive).
 * @example const store = new LocalRemote(); await store.probe("/mnt/archive/x.h5", "/mnt/archive/x.h5.part");
 */
export class LocalRemote implements RemoteStore {
  readonly description = "local file system";

  async probe(finalPath: string, partPath: string): Promise<RemoteProbe> {
    await mkdir(dirname(finalPath), { recursive: true }).catch((err) =>
      Promise.reject(io("cannot create", dirname(finalPath), err)),
    );
    const finalBytes = await sizeOf(finalPath);
    const partBytes = await sizeOf(partPath);
    return {
      ...(finalBytes !== undefined ? { finalBytes } : {}),
      ...(partBytes !== undefined ? { partBytes } : {}),
    };
  }

  async append(path: string, data: Readable, signal?: AbortSignal): Promise<void> {
    try {
      await pipeline(data, createWriteStream(path, { flags: "a" }), signal ? { signal } : {});
    } catch (err) {
      throw io("cannot write", path, err);
    }
  }

  async seal(
    from: string,
    to: string,
    want: { sha256: string; group?: string; mode: number },
  ): Promise<SealResult> {
    const h = createHash("sha256");
    try {
      for await (const c of createReadStream(from, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
    } catch (err) {
      throw io("cannot read", from, err);
    }
    const sha256 = h.digest("hex");
    if (sha256 !== want.sha256) {
      await this.remove(from);
      return { ok: false, sha256 };
    }
    try {
      if (from !== to) await rename(from, to);
      if (want.group !== undefined) await chown(to, -1, Number(getent(want.group)[2] ?? want.group));
      await chmod(to, want.mode);
      const s = await stat(to);
      return { ok: true, sha256, group: getent(String(s.gid))[0] ?? String(s.gid), mode: s.mode & 0o7777 };
    } catch (err) {
      throw io("cannot finish", to, err);
    }
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true }).catch((err) => Promise.reject(io("cannot remove", path, err)));
  }

  async close(): Promise<void> {}
}
