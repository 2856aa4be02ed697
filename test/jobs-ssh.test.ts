// Jobs over ssh against a real OpenSSH server: argv as data, SFTP inputs and results, cancel by own pid, areas.
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode, isHutchError, makeLogger } from "../src/core/index.js";
import { JobManager, LocalBackend, SshBackend, SshConnection } from "../src/jobs/index.js";
import { shellCommand } from "../src/transport/index.js";
import { ECHO_ARGV, nastyArgs, startSshd, type Sshd } from "./helpers/sshd.js";

let sshd: Sshd;
let dir: string;
let m: JobManager | undefined;

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.close();
});
afterEach(async () => {
  await m?.close();
  m = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function manager(): JobManager {
  dir = mkdtempSync(join(tmpdir(), "hutch-jobs-ssh-"));
  m = new JobManager({
    targets: new Map<string, SshBackend | LocalBackend>([
      ["local", new LocalBackend(join(dir, "local"))],
      ["daq", new SshBackend(sshd.ssh, join(dir, "remote"))],
    ]),
    defaultTarget: "daq",
    dir: join(dir, "local"),
    areas: { flag: join(dir, "FLAG") },
    remoteAreas: { daq: { flag: join(dir, "remote-FLAG") } },
    pollMs: 100,
    log: makeLogger(() => undefined),
  });
  return m;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.startsWith("Z");
  } catch {
    return false;
  }
};

describe("ssh", () => {
  it("a command line quotes every element: the remote program gets the bytes, the shell acts on none", async () => {
    const c = new SshConnection(sshd.ssh);
    try {
      const canary = join(sshd.dir, "CANARY");
      const args = nastyArgs(canary);
      const out = await c.run([
        process.execPath,
        "-e",
        "console.log(JSON.stringify(process.argv.slice(1)))",
        ...args,
      ]);
      expect(JSON.parse(out)).toEqual(args);
      expect(existsSync(canary)).toBe(false);
      await expect(c.run(["sh", "-c", "echo oops >&2; exit 4"])).rejects.toThrow(/exited 4: oops/);
      expect(shellCommand(["a b", "it's"])).toBe(`'a b' 'it'\\''s'`);
    } finally {
      await c.close();
    }
  });

  it("an unknown or different host key is refused", async () => {
    const other = new SshConnection({ ...sshd.ssh, hostKey: undefined });
    const wrong = new SshConnection({
      ...sshd.ssh,
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBVmdrYqB0dPqQUyV6OUXxFvmJp2xhHPTVSyX4XpfsTi",
    });
    try {
      const e1 = await other.run(["true"]).catch((e: unknown) => e);
      expect(isHutchError(e1, ErrorCode.Config)).toBe(true);
      expect(String(e1)).toMatch(/host key of \[127\.0\.0\.1\]:\d+ is unknown/);
      await expect(wrong.run(["true"])).rejects.toThrow(/is not the one expected/);
    } finally {
      await other.close();
      await wrong.close();
    }
  });

  it("a job gets its inputs by SFTP, runs detached with a quoted argv, and its results come back", async () => {
    const jm = manager();
    const canary = join(dir, "CANARY");
    const args = nastyArgs(canary);
    mkdirSync(join(dir, "local"), { recursive: true });
    writeFileSync(join(dir, "local", "charges.txt"), "1.5 1.6 3.1\n");
    const s = await jm.submit({
      label: "echo",
      group: "EA0001",
      argv: [...ECHO_ARGV, ...args],
      env: { HUTCH_T: "`id` $USER" },
      inputs: ["charges.txt"],
      results: ["argv.json"],
    });
    expect(s.state).toBe("running");
    const end = await jm.waitFor(s.id, 15_000);
    expect(end).toMatchObject({ state: "completed", exitCode: 0 });
    const got = JSON.parse(readFileSync(join(end.localDir, "argv.json"), "utf8"));
    expect(got).toEqual({ argv: args, env: "`id` $USER" });
    expect(existsSync(canary)).toBe(false);
    const remote = join(dir, "remote", "EA0001", s.id);
    expect(readFileSync(join(remote, "charges.txt"), "utf8")).toBe("1.5 1.6 3.1\n");
    expect(readdirSync(end.localDir).sort()).toEqual(["argv.json", "job.json", "stderr.txt", "stdout.txt"]);
    expect(JSON.parse(readFileSync(join(end.localDir, "job.json"), "utf8"))).toMatchObject({
      id: s.id,
      state: "completed",
      target: "daq",
      argv: [...ECHO_ARGV, ...args],
    });
  });

  it("cancel ends its own process group only; a time limit cancels and reports timeout", async () => {
    const jm = manager();
    const other = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      const a = await jm.submit({ label: "a", argv: ["sh", "-c", "sleep 30 & sleep 30; wait"] });
      const b = await jm.submit({ label: "b", argv: ["sleep", "30"] });
      const t = await jm.submit({ label: "t", argv: ["sleep", "30"], timeLimitMs: 500 });
      expect(alive(Number(a.nativeId))).toBe(true);
      await jm.cancel(a.id);
      const deadline = Date.now() + 5000;
      while (alive(Number(a.nativeId)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(alive(Number(a.nativeId))).toBe(false);
      expect(jm.get(a.id)!.state).toBe("cancelled");
      const te = await jm.waitFor(t.id, 10_000);
      expect(te.state).toBe("timeout");
      expect(alive(Number(t.nativeId))).toBe(false);
      expect(jm.get(b.id)!.state).toBe("running");
      expect(alive(Number(b.nativeId))).toBe(true);
      expect(alive(other.pid!)).toBe(true);
    } finally {
      other.kill();
    }
  });

  it("move renames the group's directory here and on the remote host into the flag areas", async () => {
    const jm = manager();
    const s = await jm.submit({
      label: "p",
      group: "EA0002",
      argv: ["sh", "-c", "echo 7 > g.txt"],
      results: ["g.txt"],
    });
    await jm.waitFor(s.id, 10_000);
    const r = await jm.move("EA0002", "flag");
    expect(r.moves.map((x) => x.where)).toEqual(["daq", "local"]);
    expect(r.moves[0]!.to).toBe(`${sshd.user}@127.0.0.1:${sshd.port}:${join(dir, "remote-FLAG", "EA0002")}`);
    expect(existsSync(join(dir, "remote", "EA0002"))).toBe(false);
    expect(readFileSync(join(dir, "remote-FLAG", "EA0002", s.id, "g.txt"), "utf8")).toBe("7\n");
    expect(readFileSync(join(dir, "FLAG", "EA0002", s.id, "g.txt"), "utf8")).toBe("7\n");
    await expect(jm.move("EA0002", "flag")).rejects.toThrow(/has no files anywhere/);
  });
});
