// Files on a remote host over SFTP: make directories, upload, download atomically, stat, write, rename.
import { renameSync } from "node:fs";
import { posix } from "node:path";
import type { Stats } from "ssh2";
import type { SshConnection } from "./ssh-connection.js";

const NO_SUCH_FILE = 2;

/** Stat of a remote path, or undefined when it does not exist. */
export async function remoteStat(c: SshConnection, path: string): Promise<Stats | undefined> {
  const s = await c.sftp();
  return new Promise<Stats | undefined>((resolve, reject) =>
    s.stat(path, (err, st) => {
      if (!err) return resolve(st);
      if ((err as { code?: number }).code === NO_SUCH_FILE) return resolve(undefined);
      reject(err);
    }),
  );
}

/** `mkdir -p` over SFTP (mode 0700 for what it creates). */
export async function remoteMkdirp(c: SshConnection, dir: string): Promise<void> {
  const parts = posix.normalize(dir).split("/");
  let p = parts[0] === "" ? "/" : "";
  for (const part of parts) {
    if (!part) continue;
    p = p === "/" || p === "" ? `${p}${part}` : `${p}/${part}`;
    const st = await remoteStat(c, p);
    if (st?.isDirectory()) continue;
    await c.sftpCall(`mkdir ${p}`, (s, cb) => s.mkdir(p, { mode: 0o700 }, (e) => cb(e)));
  }
}

/** Uploads a local file. */
export async function remotePut(c: SshConnection, local: string, remote: string): Promise<void> {
  await c.sftpCall(`put ${remote}`, (s, cb) => s.fastPut(local, remote, (e) => cb(e)));
}

/** Downloads a remote file to `local` through a temporary name, so a reader never sees half a file. */
export async function remoteGet(c: SshConnection, remote: string, local: string): Promise<void> {
  const tmp = `${local}.part`;
  await c.sftpCall(`get ${remote}`, (s, cb) => s.fastGet(remote, tmp, (e) => cb(e)));
  renameSync(tmp, local);
}

/** Writes a remote file with the given mode. */
export async function remoteWrite(
  c: SshConnection,
  remote: string,
  data: string,
  mode = 0o600,
): Promise<void> {
  await c.sftpCall(`write ${remote}`, (s, cb) => s.writeFile(remote, data, { mode }, (e) => cb(e)));
}

/** POSIX rename (atomic, refuses nothing the kernel would allow), via the OpenSSH extension when offered. */
export async function remoteRename(c: SshConnection, from: string, to: string): Promise<void> {
  await c.sftpCall(`rename ${from} -> ${to}`, (s, cb) => {
    try {
      s.ext_openssh_rename(from, to, (e) => cb(e));
    } catch {
      // Server without posix-rename@openssh.com: the plain SFTP rename (refuses an existing target).
      s.rename(from, to, (e) => cb(e));
    }
  });
}

/** The absolute form of a remote path (relative paths are relative to the login directory). */
export async function remoteRealpath(c: SshConnection, path: string): Promise<string> {
  return c.sftpCall<string>(`realpath ${path}`, (s, cb) => s.realpath(path, (e, p) => cb(e, p)));
}
