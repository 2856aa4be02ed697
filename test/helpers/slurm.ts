// Test helper: a real single-node slurm (slurmctld + slurmd + munge) on 127.0.0.1 with its own config in a temp dir.
import { execFile } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { availableParallelism, hostname, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.js";
import { requireRootAnd, spawnDaemon, type Daemon } from "./sshd.js";

const run = promisify(execFile);

/** A running single-node cluster. */
export interface Slurm {
  readonly dir: string;
  /** The cluster's slurm.conf (clients find it through SLURM_CONF). */
  readonly conf: string;
  /** The node name (`hostname -s`). */
  readonly node: string;
  /** Environment for slurm commands run here. */
  readonly env: NodeJS.ProcessEnv;
  /** Runs a slurm client command (sbatch, squeue, scancel...) here; returns stdout. */
  cmd(argv: string[]): Promise<string>;
  close(): Promise<void>;
}

function idOf(name: string): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no user '${name}' (apt-get install -y munge creates it)`);
  const f = line.split(":");
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

async function until(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  log: () => string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`slurm helper: ${what} not within ${timeoutMs} ms\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts munged (a fresh 1024-byte key owned by munge, its own socket), slurmctld and slurmd on free loopback
 * ports with a temp slurm.conf (proctrack/linuxproc, task/none, select/cons_tres, the node named by
 * `hostname -s` at 127.0.0.1), and waits until the node is idle.
 * @example const slurm = await startSlurm(); await slurm.cmd(["sinfo"]); await slurm.close();
 */
export async function startSlurm(): Promise<Slurm> {
  requireRootAnd(
    ["/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch"],
    "munge slurmctld slurmd slurm-client",
  );
  const dir = mkdtempSync(join(tmpdir(), "hutch-slurm-"));
  chmodSync(dir, 0o755);
  const munge = idOf("munge");
  const keyDir = join(dir, "munge-key");
  const sockDir = join(dir, "munge-sock");
  for (const [d, mode] of [
    [keyDir, 0o700],
    [sockDir, 0o755],
  ] as const) {
    mkdirSync(d, { mode });
    chownSync(d, munge.uid, munge.gid);
    chmodSync(d, mode);
  }
  const key = join(keyDir, "munge.key");
  writeFileSync(key, randomBytes(1024), { mode: 0o600 });
  chownSync(key, munge.uid, munge.gid);
  const socket = join(sockDir, "munge.socket");
  const daemons: Daemon[] = [];
  const logs = () =>
    ["munged.log", "slurmctld.log", "slurmd.log"]
      .map((f) => join(dir, f))
      .filter((f) => existsSync(f))
      .map((f) => `--- ${f}\n${readFileSync(f, "utf8").split("\n").slice(-15).join("\n")}`)
      .join("\n");
  let cmd: Slurm["cmd"] | undefined;
  const close = async () => {
    // Every job of this private cluster ends with it (slurmstepd would outlive slurmd otherwise).
    if (cmd) {
      const c = cmd;
      const ids = (await c(["squeue", "-h", "-o", "%i"]).catch(() => "")).split("\n").filter(Boolean);
      if (ids.length) {
        await c(["scancel", ...ids]).catch(() => undefined);
        await until(
          "jobs cancelled",
          10_000,
          async () => !(await c(["squeue", "-h", "-o", "%i"])).trim(),
          logs,
        ).catch(() => undefined);
      }
    }
    for (const d of daemons.reverse()) await d.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    daemons.push(
      spawnDaemon(
        [
          "/usr/bin/setpriv",
          `--reuid=${munge.uid}`,
          `--regid=${munge.gid}`,
          "--clear-groups",
          "/usr/sbin/munged",
          "--foreground",
          `--key-file=${key}`,
          `--socket=${socket}`,
          `--pid-file=${join(sockDir, "munged.pid")}`,
          `--seed-file=${join(keyDir, "munged.seed")}`,
          `--log-file=${join(keyDir, "munged.log")}`,
        ],
        join(dir, "munged.log"),
      ),
    );
    await until("munged", 10_000, async () => existsSync(socket), logs);
    const node = hostname().split(".")[0]!;
    const [ctldPort, dPort] = [await freePort(), await freePort()];
    const conf = join(dir, "slurm.conf");
    for (const d of ["state", "spool"]) mkdirSync(join(dir, d));
    writeFileSync(
      conf,
      [
        "ClusterName=hutchtest",
        `SlurmctldHost=${node}(127.0.0.1)`,
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${dPort}`,
        `SlurmUser=${userInfo().username}`,
        "AuthType=auth/munge",
        "CredType=cred/munge",
        `AuthInfo=socket=${socket}`,
        `StateSaveLocation=${join(dir, "state")}`,
        `SlurmdSpoolDir=${join(dir, "spool")}`,
        `SlurmctldPidFile=${join(dir, "slurmctld.pid")}`,
        `SlurmdPidFile=${join(dir, "slurmd.pid")}`,
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core",
        "SchedulerType=sched/builtin",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "MpiDefault=none",
        "ReturnToService=2",
        "SlurmdParameters=config_overrides",
        "KillWait=2",
        "MinJobAge=300",
        // Start batch jobs as soon as CPUs free up (the default lets scheduling lag by up to 3 s).
        "SchedulerParameters=batch_sched_delay=0",
        `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${availableParallelism()} State=UNKNOWN`,
        `PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
        "",
      ].join("\n"),
    );
    const env = { ...process.env, SLURM_CONF: conf };
    daemons.push(
      spawnDaemon(["/usr/sbin/slurmctld", "-D", "-i", "-f", conf], join(dir, "slurmctld.log"), env),
    );
    daemons.push(
      spawnDaemon(["/usr/sbin/slurmd", "-D", "-N", node, "-f", conf], join(dir, "slurmd.log"), env),
    );
    cmd = async (argv: string[]) => (await run(argv[0]!, argv.slice(1), { env, timeout: 20_000 })).stdout;
    const c = cmd;
    await until(
      "the node idle",
      30_000,
      async () => /idle/.test(await c(["sinfo", "-h", "-n", node, "-o", "%T"])),
      logs,
    );
    return { dir, conf, node, env, cmd: c, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
