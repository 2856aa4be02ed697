// One SSH connection to a remote host (ssh2, pure JS): commands as quoted argv, SFTP file transfer, host key checked.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { Client, type SFTPWrapper } from "ssh2";
import { z } from "zod";
import { ErrorCode, HutchError } from "../core/index.js";
import { hostKeysFor, keyBlobOf, knownHostName } from "../transport/index.js";
import { shellCommand } from "../transport/index.js";

/** How to reach a remote host. */
export const SshOptionsSchema = z.strictObject({
  host: z.string().min(1, "host is required"),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1, "user is required"),
  identityFile: z.string().min(1).describe("private key file (OpenSSH or PEM format)"),
  passphrase: z.string().optional().describe("of the private key, if it has one"),
  hostKey: z
    .string()
    .optional()
    .describe("the server's public key ('ssh-ed25519 AAAA...'); otherwise knownHostsFile is used"),
  knownHostsFile: z.string().default("~/.ssh/known_hosts"),
  connectTimeoutMs: z.number().int().min(100).default(20_000),
  /** A remote command or a transfer taking longer fails (the R12860 monitor gave ssh/rsync 120 s). */
  commandTimeoutMs: z.number().int().min(100).default(120_000),
});
/** How to reach a remote host (after defaults). */
export type SshOptions = z.infer<typeof SshOptionsSchema>;

/** What a remote command returned. */
export interface ExecResult {
  readonly code: number | null;
  readonly signal: string | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

const tilde = (p: string) => (p.startsWith("~/") ? `${homedir()}${p.slice(1)}` : p);

/**
 * A lazily opened, self-healing SSH connection: the first use connects, a dropped connection is reopened by the
 * next use. The host key must match `hostKey` or the known_hosts file; an unknown host is refused, never trusted.
 * @example const c = new SshConnection(opts); const r = await c.run(["squeue", "--jobs", id]); await c.close();
 */
export class SshConnection {
  private client: Client | undefined;
  private ready: Promise<Client> | undefined;
  private sftpP: Promise<SFTPWrapper> | undefined;
  private closed = false;

  constructor(readonly opts: SshOptions) {}

  /** `user@host:port`, for messages. */
  get where(): string {
    return `${this.opts.user}@${this.opts.host}:${this.opts.port}`;
  }

  private expectedKeys(): Buffer[] {
    if (this.opts.hostKey) return [keyBlobOf(this.opts.hostKey)];
    const file = tilde(this.opts.knownHostsFile);
    if (!existsSync(file)) return [];
    return hostKeysFor(readFileSync(file, "utf8"), this.opts.host, this.opts.port);
  }

  private connect(): Promise<Client> {
    if (this.closed) return Promise.reject(new HutchError(ErrorCode.Closed, `ssh ${this.where}: closed`));
    if (this.ready) return this.ready;
    const expected = this.expectedKeys();
    let key: Buffer;
    try {
      key = readFileSync(tilde(this.opts.identityFile));
    } catch (cause) {
      return Promise.reject(
        new HutchError(
          ErrorCode.Config,
          `ssh ${this.where}: cannot read identityFile ${this.opts.identityFile}`,
          {
            cause,
          },
        ),
      );
    }
    let badKey = false;
    this.ready = new Promise<Client>((resolve, reject) => {
      const c = new Client();
      this.client = c;
      c.on("ready", () => resolve(c));
      c.on("error", (err) => {
        this.reset(c);
        reject(
          badKey
            ? new HutchError(
                ErrorCode.Config,
                `ssh ${this.where}: host key of ${knownHostName(this.opts.host, this.opts.port)} is ${expected.length ? "not the one expected" : `unknown (not in ${this.opts.knownHostsFile}; set hostKey or add it)`}`,
                { cause: err },
              )
            : new HutchError(ErrorCode.Io, `ssh ${this.where}: ${err.message}`, { cause: err }),
        );
      });
      c.on("close", () => this.reset(c));
      c.connect({
        host: this.opts.host,
        port: this.opts.port,
        username: this.opts.user,
        privateKey: key,
        ...(this.opts.passphrase ? { passphrase: this.opts.passphrase } : {}),
        readyTimeout: this.opts.connectTimeoutMs,
        keepaliveInterval: 15_000,
        hostVerifier: (hostKey: Buffer) => {
          badKey = !expected.some((k) => k.equals(hostKey));
          return !badKey;
        },
      });
    });
    return this.ready;
  }

  private reset(c: Client): void {
    if (this.client === c) {
      this.client = undefined;
      this.ready = undefined;
      this.sftpP = undefined;
    }
  }

  /**
   * Runs a command line on the remote host. The remote side always hands it to the user's shell, so build it
   * with `shellCommand`/`shellScript` (or use `run`). Fails with HUTCH_ERR_TIMEOUT after `timeoutMs`.
   */
  async exec(command: string, o: { timeoutMs?: number; stdin?: string } = {}): Promise<ExecResult> {
    const c = await this.connect();
    const timeoutMs = o.timeoutMs ?? this.opts.commandTimeoutMs;
    return new Promise<ExecResult>((resolve, reject) => {
      c.exec(command, (err, ch) => {
        if (err)
          return reject(new HutchError(ErrorCode.Io, `ssh ${this.where}: exec failed: ${err.message}`));
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        let code: number | null = null;
        let signal: string | undefined;
        const timer = setTimeout(() => {
          ch.close();
          reject(
            new HutchError(
              ErrorCode.Timeout,
              `ssh ${this.where}: '${command.slice(0, 80)}' took over ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        ch.on("data", (d: Buffer) => out.push(d));
        ch.stderr.on("data", (d: Buffer) => errs.push(d));
        ch.on("exit", (c2: number | null, sig?: string) => {
          code = c2;
          signal = sig ?? undefined;
        });
        ch.on("close", () => {
          clearTimeout(timer);
          resolve({
            code,
            signal,
            stdout: Buffer.concat(out).toString("utf8"),
            stderr: Buffer.concat(errs).toString("utf8"),
          });
        });
        if (o.stdin !== undefined) ch.end(o.stdin);
        else ch.end();
      });
    });
  }

  /** Runs an argv (each element quoted) and returns stdout; a non-zero exit is a HUTCH_ERR_IO naming stderr. */
  async run(argv: readonly string[], o: { timeoutMs?: number } = {}): Promise<string> {
    const r = await this.exec(shellCommand(argv), o);
    if (r.code !== 0) {
      throw new HutchError(
        ErrorCode.Io,
        `ssh ${this.where}: ${argv[0]} exited ${r.code ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(0, 500)}`,
      );
    }
    return r.stdout;
  }

  /** The SFTP session of this connection. */
  async sftp(): Promise<SFTPWrapper> {
    const c = await this.connect();
    this.sftpP ??= new Promise<SFTPWrapper>((resolve, reject) =>
      c.sftp((err, s) =>
        err ? reject(new HutchError(ErrorCode.Io, `sftp ${this.where}: ${err.message}`)) : resolve(s),
      ),
    ).catch((e) => {
      this.sftpP = undefined;
      throw e;
    });
    return this.sftpP;
  }

  /** Runs one SFTP call with the command timeout, mapping its error to HUTCH_ERR_IO naming the path. */
  async sftpCall<T>(
    what: string,
    fn: (s: SFTPWrapper, cb: (err: Error | null | undefined, v?: T) => void) => void,
  ): Promise<T> {
    const s = await this.sftp();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new HutchError(
              ErrorCode.Timeout,
              `sftp ${this.where}: ${what} took over ${this.opts.commandTimeoutMs} ms`,
            ),
          ),
        this.opts.commandTimeoutMs,
      );
      fn(s, (err, v) => {
        clearTimeout(timer);
        if (err)
          reject(new HutchError(ErrorCode.Io, `sftp ${this.where}: ${what}: ${err.message}`, { cause: err }));
        else resolve(v as T);
      });
    });
  }

  /** Closes the connection; later calls fail with HUTCH_ERR_CLOSED. */
  async close(): Promise<void> {
    this.closed = true;
    const c = this.client;
    this.client = undefined;
    this.ready = undefined;
    this.sftpP = undefined;
    if (!c) return;
    await new Promise<void>((resolve) => {
      // A client that never connected may not emit close: do not wait for it past a second.
      const t = setTimeout(resolve, 1000);
      c.once("close", () => {
        clearTimeout(t);
        resolve();
      });
      c.end();
    });
  }
}
