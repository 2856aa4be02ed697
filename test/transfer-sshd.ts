// Test helper: Debian's OpenSSH server on 127.0.0.1 (free port, generated keys, key-only login), and cutting its sessions.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "./helpers/ports.js";

/** The sshd binary of Debian's openssh-server. */
export const SSHD = "/usr/sbin/sshd";
/** True when the tests can run a real sshd (installed, and we may create its privilege-separation directory). */
export const haveSshd = existsSync(SSHD) && existsSync("/usr/bin/ssh") && existsSync("/usr/bin/ssh-keygen");

/** A running sshd and how to log in to it. */
export interface TestSshd {
  readonly port: number;
  readonly user: string;
  readonly identityFile: string;
  readonly knownHostsFile: string;
  readonly dir: string;
  /** Kills every session process of this sshd (the connections drop mid-transfer); returns how many. */
  cutConnections(): number;
  close(): Promise<void>;
}

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Every descendant of `pid` (the sshd's session processes and theirs), deepest first. */
function descendants(pid: number): number[] {
  return children(pid).flatMap((c) => [...descendants(c), c]);
}

/** Starts sshd in the foreground on a free loopback port; resolves once it accepts connections. */
export async function startSshd(): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), "hutch-sshd-"));
  const keygen = (f: string) =>
    execFileSync("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, f)]);
  keygen("host_key");
  keygen("client_key");
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")));
  const port = await freePort();
  writeFileSync(
    join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host_key")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "PermitRootLogin prohibit-password",
      "UsePAM no",
      "StrictModes no",
      "Subsystem sftp internal-sftp",
      "LogLevel ERROR",
      "",
    ].join("\n"),
  );
  const hostKey = readFileSync(join(dir, "host_key.pub"), "utf8").trim().split(" ").slice(0, 2).join(" ");
  writeFileSync(join(dir, "known_hosts"), `[127.0.0.1]:${port} ${hostKey}\n`);
  if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const proc: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  proc.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`sshd exited with ${proc.exitCode}: ${err.trim()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on ${port}: ${err.trim()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    user: userInfo().username,
    identityFile: join(dir, "client_key"),
    knownHostsFile: join(dir, "known_hosts"),
    dir,
    cutConnections() {
      const kids = descendants(proc.pid!);
      for (const k of kids) {
        try {
          process.kill(k, "SIGKILL");
        } catch {
          // already gone (a session that ended between listing and killing)
        }
      }
      return kids.length;
    },
    async close() {
      for (const k of descendants(proc.pid!)) process.kill(k, "SIGKILL");
      if (proc.exitCode === null) {
        const done = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
