// Test helper: a real OpenSSH server on 127.0.0.1 (Debian openssh-server), own config, keys and port in a temp dir.
import { spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { utils } from "ssh2";
import type { SshOptions } from "../../src/jobs/index.js";
import { freePort } from "./ports.js";

/** A process started by a test helper, ended with its wrapper when the test process goes away. */
export interface Daemon {
  readonly child: ChildProcess;
  /** Ends the daemon (TERM, then KILL after 3 s) and waits for it. */
  stop(): Promise<void>;
  readonly exited: Promise<number | null>;
}

// The wrapper ends the daemon when asked (TERM) or when the test process that started it is gone, so no
// daemon outlives a crashed test run.
const WATCH = [
  'parent="$1"; shift',
  '"$@" & c=$!',
  "trap 'kill $c 2>/dev/null; wait $c; exit 0' TERM INT",
  'while kill -0 "$c" 2>/dev/null; do',
  '  kill -0 "$parent" 2>/dev/null || { kill "$c" 2>/dev/null; wait "$c"; exit 0; }',
  "  sleep 1 & wait $!",
  "done",
  'wait "$c"',
].join("\n");

/**
 * Starts `argv` in the foreground under a watchdog wrapper, output to `logFile`.
 * @example const d = spawnDaemon(["/usr/sbin/sshd", "-D", "-e", "-f", conf], join(dir, "sshd.log"));
 */
export function spawnDaemon(argv: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): Daemon {
  const log = openSync(logFile, "a");
  const child = spawn("/bin/sh", ["-c", WATCH, "hutch-daemon", String(process.pid), ...argv], {
    stdio: ["ignore", log, log],
    env,
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Resolves once `port` on 127.0.0.1 answers with `banner` (or rejects after `timeoutMs`). */
export async function waitForBanner(
  port: number,
  banner: string,
  timeoutMs: number,
  alive: () => boolean,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      let buf = "";
      const done = (v: boolean) => {
        s.destroy();
        resolve(v);
      };
      s.setTimeout(1000, () => done(false));
      s.on("data", (d) => {
        buf += d.toString("latin1");
        if (buf.includes(banner)) done(true);
      });
      s.on("error", () => done(false));
      s.on("close", () => done(buf.includes(banner)));
    });
    if (ok) return;
    if (!alive()) throw new Error(`the server on port ${port} exited`);
    if (Date.now() > end) throw new Error(`no '${banner}' on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Fails with the reason when the machine cannot run the server (not root, package missing). */
export function requireRootAnd(paths: string[], packages: string): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`this test starts system daemons and must run as root (uid ${process.getuid?.()})`);
  }
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length) {
    throw new Error(
      `missing ${missing.join(", ")}: apt-get install -y ${packages} (scripts/system-deps.mjs does it)`,
    );
  }
}

/** A running sshd and how to log in to it. */
export interface Sshd {
  readonly port: number;
  readonly user: string;
  readonly dir: string;
  /** Options for Hutch's ssh targets: key login, host key pinned. */
  readonly ssh: SshOptions;
  /** The host's public key line. */
  readonly hostKey: string;
  readonly log: string;
  close(): Promise<void>;
}

/** What differs between the tests' sshd servers. */
export interface StartSshdOptions {
  /** Variables set for every session (sshd's `SetEnv`), e.g. SLURM_CONF like a cluster's login node. */
  readonly setEnv?: Record<string, string>;
  /** Further sshd_config lines, e.g. `PubkeyAuthentication yes`. */
  readonly extraConfig?: readonly string[];
  /** Fail unless running as root (default true); when false, sshd runs as the current user. */
  readonly requireRoot?: boolean;
}

/**
 * Starts Debian's sshd on a free loopback port with its own config: a fresh host key, key-only login for the
 * current user (root), SFTP, `setEnv` variables for every session and any `extraConfig` lines.
 * @example const sshd = await startSshd(); const c = new SshConnection(sshd.ssh); ...; await sshd.close();
 */
export async function startSshd(opts: StartSshdOptions = {}): Promise<Sshd> {
  if (opts.requireRoot ?? true) requireRootAnd(["/usr/sbin/sshd"], "openssh-server");
  const dir = mkdtempSync(join(tmpdir(), "hutch-sshd-"));
  chmodSync(dir, 0o755);
  if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const host = utils.generateKeyPairSync("ed25519");
  const user = utils.generateKeyPairSync("ed25519");
  writeFileSync(join(dir, "host_key"), host.private, { mode: 0o600 });
  writeFileSync(join(dir, "id_ed25519"), user.private, { mode: 0o600 });
  writeFileSync(join(dir, "authorized_keys"), `${user.public}\n`, { mode: 0o600 });
  const log = join(dir, "sshd.log");
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const conf = join(dir, "sshd_config");
    writeFileSync(
      conf,
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${join(dir, "host_key")}`,
        `PidFile ${join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "UsePAM no",
        "StrictModes no",
        "MaxSessions 50",
        "MaxStartups 50",
        "Subsystem sftp internal-sftp",
        ...(opts.setEnv && Object.keys(opts.setEnv).length
          ? [
              `SetEnv ${Object.entries(opts.setEnv)
                .map(([k, v]) => `${k}=${v}`)
                .join(" ")}`,
            ]
          : []),
        ...(opts.extraConfig ?? []),
        "LogLevel ERROR",
        "",
      ].join("\n"),
    );
    const d = spawnDaemon(["/usr/sbin/sshd", "-D", "-e", "-f", conf], log);
    try {
      await waitForBanner(port, "SSH-2.0-", 10_000, () => d.child.exitCode === null);
    } catch (err) {
      lastError = err;
      await d.stop();
      continue;
    }
    const me = userInfo().username;
    return {
      port,
      user: me,
      dir,
      hostKey: host.public,
      log,
      ssh: {
        host: "127.0.0.1",
        port,
        user: me,
        identityFile: join(dir, "id_ed25519"),
        hostKey: host.public,
        knownHostsFile: join(dir, "known_hosts"),
        connectTimeoutMs: 10_000,
        commandTimeoutMs: 30_000,
      },
      async close() {
        await d.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error(
    `sshd did not start: ${String(lastError)}\n${existsSync(log) ? readFileSync(log, "utf8") : ""}`,
  );
}

/** Arguments a shell would act on; a job must receive them byte for byte. */
export function nastyArgs(canary: string): string[] {
  return [
    "plain",
    "with space",
    "it's",
    'double"quote',
    `$(touch ${canary})`,
    `\`touch ${canary}\``,
    `a; touch ${canary}`,
    `'; touch ${canary}; '`,
    "a && b || c | d",
    "new\nline",
    "back\\slash",
    "*",
    "~",
    "$HOME",
    "--flag",
    "-n",
    "",
    "A=b",
    "é ünï ✓",
    "\ttab",
    "> out",
    "{a,b}",
    "!bang #hash",
  ];
}

/** A node one-liner writing its arguments (and one env var) to argv.json in its working directory. */
export const ECHO_ARGV = [
  process.execPath,
  "-e",
  "require('fs').writeFileSync('argv.json', JSON.stringify({ argv: process.argv.slice(1), env: process.env.HUTCH_T ?? null }))",
];
