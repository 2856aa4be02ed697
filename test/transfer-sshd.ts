// Test helper: the transfer tests' sshd (helpers/sshd.ts with OpenSSH known_hosts), and cutting its sessions.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startSshd as startBaseSshd, type Sshd } from "./helpers/sshd.js";

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

/** Kills every session process under the listening sshd; returns how many. */
function killSessions(sshdPid: number): number {
  const kids = descendants(sshdPid);
  for (const k of kids) {
    try {
      process.kill(k, "SIGKILL");
    } catch {
      // already gone (a session that ended between listing and killing)
    }
  }
  return kids.length;
}

/** Starts sshd in the foreground on a free loopback port; resolves once it accepts connections. */
export async function startSshd(): Promise<TestSshd> {
  const base: Sshd = await startBaseSshd({ extraConfig: ["PubkeyAuthentication yes"], requireRoot: false });
  // sshd writes its pid file once its socket listens, before the banner startSshd waited for.
  const pid = Number(readFileSync(join(base.dir, "sshd.pid"), "utf8").trim());
  const knownHostsFile = base.ssh.knownHostsFile!;
  const hostKey = base.hostKey.trim().split(" ").slice(0, 2).join(" ");
  writeFileSync(knownHostsFile, `[127.0.0.1]:${base.port} ${hostKey}\n`);
  return {
    port: base.port,
    user: base.user,
    identityFile: base.ssh.identityFile!,
    knownHostsFile,
    dir: base.dir,
    cutConnections: () => killSessions(pid),
    async close() {
      killSessions(pid);
      await base.close();
    },
  };
}
