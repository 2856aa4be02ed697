// A RemoteStore over SSH with Debian's OpenSSH client: one multiplexed connection, one `ssh` round trip per step.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { ErrorCode, HutchError } from "../../core/index.js";
import { shellQuote } from "../../transport/index.js";
import type { RemoteProbe, RemoteStore, SealResult } from "./remote-store.js";
import { parseProbe, parseSeal, probeScript, sealScript } from "./remote-scripts.js";

/** Where and how to reach the remote host. */
export interface SshRemoteOptions {
  readonly host: string;
  readonly port?: number;
  readonly user: string;
  /** Private key (no passphrase: the transfer runs unattended). */
  readonly identityFile: string;
  /** known_hosts to check the host key against. */
  readonly knownHostsFile?: string;
  /** `yes` (default, the key must be known) or `accept-new` (trust on first use). */
  readonly strictHostKeyChecking?: "yes" | "accept-new";
  /** Jump host (`user@relay:22`), when the remote is only reachable through the relay. */
  readonly jump?: string;
  readonly connectTimeoutS?: number;
  /** Dead-connection detection: ServerAliveInterval (s) x 3. */
  readonly serverAliveS?: number;
  /** Share one connection between operations (OpenSSH ControlMaster; default true). */
  readonly multiplex?: boolean;
  /** The ssh binary (default /usr/bin/ssh). */
  readonly ssh?: string;
}

/**
 * Runs each step as `ssh user@host -- <POSIX sh>`: `probe` (mkdir -p, stat), `append` (the data piped into
 * `cat >>`), `seal` (sha256sum computed on the remote host, compared there, then mv, chgrp, chmod and stat — or rm of
 * a bad copy). Needs sh and coreutils on the remote side. Batch mode: never prompts; the host key must be known. A
 * cut connection ends the step with ssh's exit status 255 and its message.
 * @example const r = new SshRemote({ host: "s3dfdtn", user: "mec", identityFile: "/home/mec/.ssh/id_ed25519" });
 */
export class SshRemote implements RemoteStore {
  readonly description: string;
  private readonly base: string[];
  private readonly controlDir: string | undefined;

  constructor(private readonly o: SshRemoteOptions) {
    this.description = `ssh ${o.user}@${o.host}:${o.port ?? 22}`;
    // Unix socket paths are short (108 bytes): a short directory of our own, removed at close.
    this.controlDir = o.multiplex === false ? undefined : mkdtempSync(join(tmpdir(), "hssh-"));
    this.base = [
      "-p",
      String(o.port ?? 22),
      "-i",
      o.identityFile,
      "-o",
      "BatchMode=yes",
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      `StrictHostKeyChecking=${o.strictHostKeyChecking ?? "yes"}`,
      ...(o.knownHostsFile ? ["-o", `UserKnownHostsFile=${o.knownHostsFile}`] : []),
      "-o",
      `ConnectTimeout=${o.connectTimeoutS ?? 10}`,
      "-o",
      `ServerAliveInterval=${o.serverAliveS ?? 5}`,
      "-o",
      "ServerAliveCountMax=3",
      "-o",
      "LogLevel=ERROR",
      ...(this.controlDir
        ? ["-o", "ControlMaster=auto", "-o", `ControlPath=${this.controlDir}/cm`, "-o", "ControlPersist=60"]
        : []),
      ...(o.jump ? ["-J", o.jump] : []),
      `${o.user}@${o.host}`,
    ];
  }

  /** Runs a remote command; resolves with stdout, rejects with HUTCH_ERR_IO naming the step and ssh's message. */
  run(step: string, command: string, stdin?: Readable, signal?: AbortSignal): Promise<string> {
    return new Promise((resolve, reject) => {
      const p = spawn(this.o.ssh ?? "/usr/bin/ssh", [...this.base, "--", command], {
        stdio: [stdin ? "pipe" : "ignore", "pipe", "pipe"],
        ...(signal ? { signal } : {}),
      });
      let out = "";
      let err = "";
      p.stdout!.on("data", (b: Buffer) => (out += b.toString()));
      p.stderr!.on("data", (b: Buffer) => (err += b.toString()));
      if (stdin) {
        stdin.on("error", (e) => {
          err += e.message;
          p.kill();
        });
        p.stdin!.on("error", () => undefined); // EPIPE when the connection is cut: the exit status reports it
        stdin.pipe(p.stdin!);
      }
      p.on("error", (e) => {
        const why = e.name === "AbortError" ? "cut by the transfer" : `cannot run ssh: ${e.message}`;
        reject(new HutchError(ErrorCode.Io, `${this.description}: ${step}: ${why}`, { cause: e }));
      });
      p.on("exit", (code, sig) => {
        // 'exit', not 'close': a multiplexing master may keep inherited pipes open after this ssh is done.
        setImmediate(() => {
          if (code === 0) return resolve(out);
          const why = err.trim().split("\n").slice(-2).join(" ") || (sig ? `killed by ${sig}` : "no message");
          const what = code === 255 ? "connection failed or cut" : `exit status ${code}`;
          reject(new HutchError(ErrorCode.Io, `${this.description}: ${step}: ${what}: ${why}`));
        });
      });
    });
  }

  async probe(finalPath: string, partPath: string): Promise<RemoteProbe> {
    return parseProbe(await this.run("probe", probeScript(finalPath, partPath)));
  }

  async append(path: string, data: Readable, signal?: AbortSignal): Promise<void> {
    await this.run("append", `cat >> ${shellQuote(path)}`, data, signal);
  }

  async seal(
    from: string,
    to: string,
    want: { sha256: string; group?: string; mode: number },
  ): Promise<SealResult> {
    return parseSeal(await this.run("seal", sealScript(from, to, want)), this.description);
  }

  async remove(path: string): Promise<void> {
    await this.run("remove", `rm -f -- ${shellQuote(path)}`);
  }

  /** Ends the shared connection (if any) and removes its socket directory. */
  async close(): Promise<void> {
    if (!this.controlDir) return;
    await new Promise<void>((resolve) => {
      const p = spawn(this.o.ssh ?? "/usr/bin/ssh", ["-O", "exit", ...this.base], { stdio: "ignore" });
      p.on("error", () => resolve());
      p.on("exit", () => resolve());
    });
    rmSync(this.controlDir, { recursive: true, force: true });
  }
}
