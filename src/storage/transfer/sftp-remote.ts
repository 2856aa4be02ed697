// A RemoteStore on the `ssh2` package: one SSH connection per store, data over SFTP, probe and seal as remote commands.
import { existsSync, readFileSync } from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Client, type SFTPWrapper } from "ssh2";
import { ErrorCode, HutchError } from "../../core/index.js";
import { hostKeysFor, shellQuote } from "../../transport/index.js";
import { parseProbe, parseSeal, probeScript, sealScript } from "./remote-scripts.js";
import type { RemoteProbe, RemoteStore, SealResult } from "./remote-store.js";

/** Where and how to reach the remote host. */
export interface SftpRemoteOptions {
  readonly host: string;
  readonly port?: number;
  readonly user: string;
  /** Private key (no passphrase: the transfer runs unattended). */
  readonly identityFile: string;
  /** known_hosts holding the host's key (plain or hashed entries); the connection is refused otherwise. */
  readonly knownHostsFile: string;
  readonly connectTimeoutMs?: number;
  /** Keepalive period; 3 missed replies end a dead connection (default 5000 ms). */
  readonly keepaliveMs?: number;
}

/**
 * One connection, and how to fail the SFTP writes in flight when it drops: ssh2's write stream would wait forever
 * for the server to close its handle.
 */
interface Connection {
  readonly client: Client;
  readonly sftp: SFTPWrapper;
  readonly lost: Set<(err: Error) => void>;
}

/**
 * The SSH backend on `ssh2` (no OpenSSH client needed, e.g. on a Windows detector PC): one connection, opened on
 * first use and again after a drop; `append` writes through SFTP at the end of the file; `probe` and `seal` run the
 * same POSIX commands as the OpenSSH backend (sha256sum on the remote side). The host key must be in
 * `knownHostsFile`.
 * @example const r = new SftpRemote({ host: "s3dfdtn", user: "mec", identityFile: "/home/mec/.ssh/id_ed25519", knownHostsFile: "/home/mec/.ssh/known_hosts" });
 */
export class SftpRemote implements RemoteStore {
  readonly description: string;
  private ready: Promise<Connection> | undefined;
  private closed = false;

  constructor(private readonly o: SftpRemoteOptions) {
    this.description = `sftp ${o.user}@${o.host}:${o.port ?? 22}`;
  }

  private connect(): Promise<Connection> {
    if (this.closed) return Promise.reject(new HutchError(ErrorCode.Closed, `${this.description}: closed`));
    if (this.ready) return this.ready;
    const port = this.o.port ?? 22;
    const keys = existsSync(this.o.knownHostsFile)
      ? hostKeysFor(readFileSync(this.o.knownHostsFile, "utf8"), this.o.host, port)
      : [];
    let badKey = false;
    let failed = false;
    let made = false;
    const lost = new Set<(err: Error) => void>();
    // `fail` may run inside the executor (a key file that cannot be read, a key ssh2 cannot parse): before `p`
    // exists, and before `this.ready` is set; it must then neither touch `p` nor leave `this.ready` rejected.
    const p = new Promise<Connection>((resolve, reject) => {
      const c = new Client();
      const fail = (err: Error) => {
        failed = true;
        if (made && this.ready === p) this.ready = undefined;
        reject(
          new HutchError(
            ErrorCode.Io,
            badKey
              ? `${this.description}: the host key is not the one in ${this.o.knownHostsFile}`
              : `${this.description}: ${err.message}`,
            { cause: err },
          ),
        );
      };
      c.on("ready", () =>
        c.sftp((err, sftp) => (err ? (fail(err), c.end()) : resolve({ client: c, sftp, lost }))),
      );
      c.on("error", fail);
      c.on("close", () => {
        if (made && this.ready === p) this.ready = undefined;
        for (const fn of lost) fn(new Error("connection lost"));
      });
      try {
        c.connect({
          host: this.o.host,
          port,
          username: this.o.user,
          privateKey: readFileSync(this.o.identityFile),
          readyTimeout: this.o.connectTimeoutMs ?? 10_000,
          keepaliveInterval: this.o.keepaliveMs ?? 5000,
          keepaliveCountMax: 3,
          hostVerifier: (key: Buffer) => {
            badKey = !keys.some((k) => k.equals(key));
            return !badKey;
          },
        });
      } catch (err) {
        fail(err as Error);
      }
    });
    made = true;
    if (!failed) this.ready = p;
    return p;
  }

  /** Runs a remote command; resolves with stdout, rejects with HUTCH_ERR_IO naming the step and stderr. */
  private async exec(step: string, command: string): Promise<string> {
    const { client } = await this.connect();
    return new Promise((resolve, reject) => {
      client.exec(command, (err, ch) => {
        if (err) return reject(new HutchError(ErrorCode.Io, `${this.description}: ${step}: ${err.message}`));
        let out = "";
        let errText = "";
        ch.on("data", (b: Buffer) => (out += b.toString()));
        ch.stderr.on("data", (b: Buffer) => (errText += b.toString()));
        ch.on("close", (code: number | null) => {
          if (code === 0) resolve(out);
          else {
            const why = errText.trim().split("\n").slice(-2).join(" ") || "connection closed";
            reject(new HutchError(ErrorCode.Io, `${this.description}: ${step}: exit status ${code}: ${why}`));
          }
        });
      });
    });
  }

  async probe(finalPath: string, partPath: string): Promise<RemoteProbe> {
    return parseProbe(await this.exec("probe", probeScript(finalPath, partPath)));
  }

  async append(path: string, data: Readable, signal?: AbortSignal): Promise<void> {
    const { sftp, lost } = await this.connect();
    let onLost!: (err: Error) => void;
    const dropped = new Promise<never>((_, reject) => (onLost = reject));
    lost.add(onLost);
    try {
      await Promise.race([
        pipeline(data, sftp.createWriteStream(path, { flags: "a" }), signal ? { signal } : {}),
        dropped,
      ]);
    } catch (err) {
      data.destroy();
      throw new HutchError(ErrorCode.Io, `${this.description}: append: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      lost.delete(onLost);
    }
  }

  async seal(
    from: string,
    to: string,
    want: { sha256: string; group?: string; mode: number },
  ): Promise<SealResult> {
    return parseSeal(await this.exec("seal", sealScript(from, to, want)), this.description);
  }

  async remove(path: string): Promise<void> {
    await this.exec("remove", `rm -f -- ${shellQuote(path)}`);
  }

  /** Ends the connection. */
  async close(): Promise<void> {
    this.closed = true;
    const r = this.ready;
    this.ready = undefined;
    const c = await r?.catch(() => undefined);
    c?.client.end();
  }
}
