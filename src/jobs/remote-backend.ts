// What ssh and slurm jobs share: a remote job directory staged over SFTP, results synced back, group moves.
import { basename, posix } from "node:path";
import { ErrorCode, HutchError } from "../core/index.js";
import { checkGroupName } from "./file-areas.js";
import { JOB_FILES, jobScript } from "./job-script.js";
import type { JobBackend, JobRecord, NativeStatus } from "./job-types.js";
import {
  remoteGet,
  remoteMkdirp,
  remotePut,
  remoteRealpath,
  remoteRename,
  remoteStat,
  remoteWrite,
} from "./remote-files.js";
import { SshConnection, type SshOptions } from "./ssh-connection.js";

/** Output files larger than this are not copied back (their tail is still read for messages). */
const MAX_OUTPUT_BYTES = 1 << 20;

/**
 * A backend on a remote host reached over ssh: `<dir>/<group>/<id>` there holds the job's inputs, script,
 * output and results; results come back by SFTP when they appear or change.
 */
export abstract class RemoteBackend implements JobBackend {
  abstract readonly kind: "ssh" | "slurm";
  readonly conn: SshConnection;
  private rootP: Promise<string> | undefined;
  private readonly seen = new Map<string, string>();

  constructor(
    ssh: SshOptions,
    /** The remote root of job directories (relative paths are relative to the login directory). */
    readonly dir: string,
  ) {
    this.conn = new SshConnection(ssh);
  }

  /** The remote root, absolute (created on first use). */
  root(): Promise<string> {
    this.rootP ??= (async () => {
      await remoteMkdirp(this.conn, this.dir);
      return remoteRealpath(this.conn, this.dir);
    })().catch((e) => {
      this.rootP = undefined;
      throw e;
    });
    return this.rootP;
  }

  dirOf(id: string, group: string | undefined): string {
    // Relative until the root is known; `start` passes the absolute form to the host.
    return group ? posix.join(this.dir, group, id) : posix.join(this.dir, id);
  }

  /** The job's absolute remote directory. */
  protected async absDir(job: JobRecord): Promise<string> {
    const root = await this.root();
    return posix.join(root, posix.relative(this.dir, job.remoteDir));
  }

  async start(job: JobRecord): Promise<string> {
    const dir = await this.absDir(job);
    await remoteMkdirp(this.conn, dir);
    for (const p of job.inputPaths) await remotePut(this.conn, p, posix.join(dir, basename(p)));
    await remoteWrite(this.conn, posix.join(dir, JOB_FILES.script), jobScript(job, dir), 0o700);
    return this.launch(job, dir);
  }

  /** Starts the staged `job.sh` in `dir`; returns the native id. */
  protected abstract launch(job: JobRecord, dir: string): Promise<string>;
  abstract poll(jobs: readonly JobRecord[]): Promise<Map<string, NativeStatus>>;
  abstract cancel(job: JobRecord): Promise<void>;

  async sync(job: JobRecord, names: readonly string[]): Promise<string[]> {
    const dir = await this.absDir(job);
    const now: string[] = [];
    for (const n of names) {
      const st = await remoteStat(this.conn, posix.join(dir, n));
      if (!st || !st.isFile()) continue;
      const isOutput = n === JOB_FILES.stdout || n === JOB_FILES.stderr;
      if (isOutput && st.size > MAX_OUTPUT_BYTES) continue;
      const key = `${job.id}/${n}`;
      const sig = `${st.size}:${st.mtime}`;
      if (this.seen.get(key) === sig) continue;
      await remoteGet(this.conn, posix.join(dir, n), posix.join(job.localDir, n));
      this.seen.set(key, sig);
      now.push(n);
    }
    return now;
  }

  async moveGroup(
    group: string,
    areaDir: string,
    back = false,
  ): Promise<{ from: string; to: string } | undefined> {
    checkGroupName(group);
    const root = await this.root();
    await remoteMkdirp(this.conn, areaDir);
    const area = await remoteRealpath(this.conn, areaDir);
    const inside = (a: string, b: string) => a === b || a.startsWith(`${b}/`);
    if (inside(area, root) || inside(root, area)) {
      throw new HutchError(
        ErrorCode.Config,
        `remote area ${area} and job dir ${root} must not contain each other`,
      );
    }
    const [from, to] = back
      ? [posix.join(area, group), posix.join(root, group)]
      : [posix.join(root, group), posix.join(area, group)];
    const sftp = await this.conn.sftp();
    const lst = await new Promise<{ isDirectory(): boolean; isSymbolicLink(): boolean } | undefined>((res) =>
      sftp.lstat(from, (err, st) => res(err ? undefined : st)),
    );
    if (!lst) return undefined;
    if (lst.isSymbolicLink() || !lst.isDirectory()) {
      throw new HutchError(
        ErrorCode.Validation,
        `${this.conn.where}:${from} is not a directory (a link or a file)`,
      );
    }
    if (await remoteStat(this.conn, to)) {
      throw new HutchError(ErrorCode.Io, `${this.conn.where}:${to} already exists; nothing was moved`);
    }
    await remoteRename(this.conn, from, to);
    return { from: `${this.conn.where}:${from}`, to: `${this.conn.where}:${to}` };
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}
