// A RemoteStore over SSH with Debian's OpenSSH client: one multiplexed connection, one `ssh` round trip per step.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import type { Readable } from "node:stream";
import { ErrorCode, HutchError } from "../../core/index.js";
import {
  modeString,
  shellQuote,
  type RemoteProbe,
  type RemoteStore,
  type SealResult,
} from "./remote-store.js";

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
    const q = shellQuote;
    const out = await this.run(
      "probe",
      `mkdir -p -- ${q(posix.dirname(finalPath))} && for f in ${q(finalPath)} ${q(partPath)}; do stat -c %s -- "$f" 2>/dev/null || echo -; done`,
    );
    const [f, p] = out.trim().split("\n");
    const num = (s: string | undefined) => (s && /^\d+$/.test(s) ? Number(s) : undefined);
    const finalBytes = num(f);
    const partBytes = num(p);
    return {
      ...(finalBytes !== undefined ? { finalBytes } : {}),
      ...(partBytes !== undefined ? { partBytes } : {}),
    };
  }

  async append(path: string, data: Readable, signal?: AbortSignal): Promise<void> {
    await this.run("append", `cat >> ${shellQuote(path)}`, data, signal);
  }

  async seal(
    from: string,
    to: string,
    want: { sha256: string; group?: string; mode: number },
  ): Promise<SealResult> {
    const q = shellQuote;
    const script = [
      `s=$(sha256sum -- ${q(from)} | cut -d ' ' -f 1) || exit 3`,
      `if [ "$s" != ${q(want.sha256)} ]; then rm -f -- ${q(from)}; echo "MISMATCH $s"; exit 0; fi`,
      from === to ? "" : `mv -f -- ${q(from)} ${q(to)} || exit 4`,
      want.group === undefined ? "" : `chgrp -- ${q(want.group)} ${q(to)} || exit 5`,
      `chmod -- ${modeString(want.mode)} ${q(to)} || exit 6`,
      `echo "OK $s $(stat -c '%G %a' -- ${q(to)})"`,
    ]
      .filter(Boolean)
      .join("\n");
    const out = (await this.run("seal", script)).trim();
    const ok = /^OK ([0-9a-f]{64}) (\S+) ([0-7]+)$/.exec(out);
    if (ok) return { ok: true, sha256: ok[1]!, group: ok[2]!, mode: parseInt(ok[3]!, 8) };
    const bad = /^MISMATCH ([0-9a-f]*)$/.exec(out);
    if (bad) return { ok: false, sha256: bad[1]! };
    throw new HutchError(
      ErrorCode.Io,
      `${this.description}: seal ${to}: unexpected answer '${out.slice(0, 120)}'`,
    );
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
