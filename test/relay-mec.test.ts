// MEC end to end: DAQ arm (raw JSON, as the MEC DAQ sends it) -> relay -> detector-side agent -> run control ->
// triggered frames -> run file + TIFFs -> verified copy over a real sshd; the relay forwards Hutch's traffic.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startDetectorAgent } from "../src/app/commands/area-detector.js";
import { connect, resultOf } from "../src/control/index.js";
import { makeLogger, type Document } from "../src/core/index.js";
import { RelayServer, type RunNotice } from "../src/relay/index.js";
import type { TransferStatusRow } from "../src/storage/index.js";
import { ZmqSubscriber } from "../src/transport/index.js";
import { startAreaRig, type AreaRig } from "./area-rig.js";
import { runPython } from "./helpers/h5py.js";
import { until } from "./helpers/instrument.js";
import { haveSshd, startSshd, type TestSshd } from "./transfer-sshd.js";

const log = makeLogger(() => undefined);
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** Sends one arm exactly like the MEC DAQ (json.dumps, one send, no newline) and returns what came back. */
async function daqSend(relay: RelayServer, arm: object): Promise<string> {
  const [host, port] = relay.daqAddress.split(":");
  const out = await runPython(
    `import socket, json, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.send(json.dumps(json.loads(sys.argv[3])).encode())
print(s.recv(4096).decode())
s.close()`,
    [host!, port!, JSON.stringify(arm)],
    { timeoutMs: 30_000 },
  );
  return out.replace(/\n$/, "");
}

async function mecSetup(o: { sshd?: TestSshd; det?: Record<string, unknown> } = {}) {
  const remoteDir = mkdtempSync(join(tmpdir(), "hutch-archive-"));
  const rig: AreaRig = await startAreaRig({
    det: { tiff: { enabled: true, directory: "tiff" }, ...o.det },
    extra: o.sshd
      ? [
          {
            name: "transfer",
            type: "transfer",
            params: {
              target: {
                kind: "ssh",
                host: "127.0.0.1",
                port: o.sshd.port,
                user: o.sshd.user,
                identityFile: o.sshd.identityFile,
                knownHostsFile: o.sshd.knownHostsFile,
                directory: remoteDir,
              },
              sources: ["runs/*_run{run:05}_*.h5", "tiff/*/run{run:05}_*"],
              group: "users",
              mode: "0640",
            },
          },
        ]
      : [],
  });
  closers.push(() => rig.close());
  const notices: RunNotice[] = [];
  const relay = await RelayServer.open(
    {
      daq: "127.0.0.1:0",
      detector: "127.0.0.1:0",
      forwards: [
        { name: "control", listen: "127.0.0.1:0", target: rig.control.replace("tcp://", "") },
        { name: "bus", listen: "127.0.0.1:0", target: rig.publish.replace("tcp://", "") },
      ],
    },
    log,
    (n) => notices.push(n),
  );
  closers.push(() => relay.close());
  const agent = startDetectorAgent({ file: rig.file, relay: relay.detectorAddress, name: "varex-pc", log });
  closers.push(() => agent.close());
  await agent.agent.ready(5000);
  return { rig, relay, notices, remoteDir };
}

const ARM = {
  command: "arm",
  experiment: "mecl1019923",
  run_name: "r21",
  num_skip_frames: 1,
  num_background_frames: 2,
  num_data_frames: 1,
  num_post_background_frames: 0,
  gain: 1,
  binning: 1,
};

describe.skipIf(!haveSshd)("MEC end to end (relay, agent, run control, sshd on 127.0.0.1)", () => {
  it("an arm sent as the MEC DAQ sends it gets OK; every trigger gives a frame; the run file and TIFFs reach the archive, verified", async () => {
    const sshd = await startSshd();
    closers.push(() => sshd.close());
    const { rig, relay, notices, remoteDir } = await mecSetup({ sshd });
    const bus = relay.forwards.find((f) => f.name === "bus")!.address;
    const sub = await ZmqSubscriber.open({ address: `tcp://${bus}`, prefix: "mec/" });
    closers.push(async () => sub.close());
    const seen: Document[] = [];
    void (async () => {
      for await (const { doc } of sub) seen.push(doc);
    })();
    // the operator network sees the detector's core through the relay
    const op = connect(`tcp://${relay.forwards.find((f) => f.name === "control")!.address}`);
    closers.push(() => op.close());
    expect((await op.status()).instrument).toBe("mec");
    await until(async () => {
      await rig.inst.bus.publish({
        kind: "log",
        time: Date.now() / 1000,
        level: "debug",
        component: "probe",
        message: "x",
      });
      return seen.length > 0;
    }, "documents through the relay's bus forward");

    expect(await daqSend(relay, ARM)).toBe("OK");
    const run = (await op.status()).run!.number;
    await rig.fire(0, 4, [4]);
    const entry = await rig.ended(run);
    expect(entry).toMatchObject({ exitStatus: "success", reason: "det1: all 4 frame(s) received" });
    expect(entry.config).toMatchObject({
      run: { plan: "area-detector", arm: { experiment: "mecl1019923", run_name: "r21" } },
    });
    await until(() => notices.find((n) => n.run === run), "the agent's run notice at the relay");
    expect(notices[0]).toMatchObject({ run, exitStatus: "success" });
    await until(() => seen.some((d) => d.kind === "run-stop"), "run-stop through the relay");

    const status = await until(
      async () => {
        const s = (await resultOf(op.call("transfer", "status", {}))) as {
          counts: Record<string, number>;
          transfers: TransferStatusRow[];
        };
        return s.transfers.length === 5 && s.counts.done === 5 ? s : undefined; // the run file and 4 TIFFs
      },
      "every file of the run verified at the archive",
      60_000,
    );
    const h5 = entry.files.find((f) => f.path.endsWith(".h5"))!;
    const copies = status.transfers.map((t) => t.remote.slice(remoteDir.length + 1)).sort();
    expect(copies).toEqual([
      `runs/${h5.path.split("/").pop()}`,
      `tiff/mecl1019923/run${String(run).padStart(5, "0")}_r21/det1/background_00001.tif`,
      `tiff/mecl1019923/run${String(run).padStart(5, "0")}_r21/det1/background_00002.tif`,
      `tiff/mecl1019923/run${String(run).padStart(5, "0")}_r21/det1/data_00003.tif`,
      `tiff/mecl1019923/run${String(run).padStart(5, "0")}_r21/det1/data_00003_subtracted.tif`,
    ]);
    const remoteH5 = join(remoteDir, "runs", h5.path.split("/").pop()!);
    expect(createHash("sha256").update(readFileSync(remoteH5)).digest("hex")).toBe(h5.sha256); // the catalog's sha256
    expect(statSync(remoteH5).mode & 0o777).toBe(0o640);
    expect(statSync(remoteH5).gid).toBe(100);
    const frames = await runPython(
      `import h5py, sys; f = h5py.File(sys.argv[1], "r"); print(f["det1_frames/data/frame"].shape, f.attrs["exit_status"])`,
      [remoteH5],
    );
    expect(frames.trim()).toBe("(3, 48, 64) success");
  });

  it("a full disk and a bad arm message get NOT OK with the reason, and nothing starts", async () => {
    const mnt = mkdtempSync(join(tmpdir(), "hutch-full-"));
    let mounted = false;
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt], { stdio: "ignore" });
      mounted = true;
    } catch {
      // no mount here: the threshold check alone is shown below
    }
    closers.push(async () => {
      if (mounted) execFileSync("umount", [mnt]);
      rmdirSync(mnt);
    });
    const { rig, relay } = await mecSetup({
      det: mounted ? { diskPath: mnt, minFreeDiskBytes: 5e9 } : { minFreeDiskBytes: 1e18 },
    });
    const full = await daqSend(relay, ARM);
    expect(full).toMatch(
      /^NOT OK: det1 refuses to arm: only [\d.]+ GB free on the disk of .*, at least .* GB needed \(minFreeDiskBytes\)$/,
    );
    if (mounted) expect(full).toContain(`only 0.001 GB free on the disk of ${mnt}`);
    expect(await daqSend(relay, { ...ARM, gain: 0, includes_shot_frame: 1 })).toMatch(
      /^NOT OK: gain: must be a whole number from 1 to 7 \(got 0\); unknown field 'includes_shot_frame'/,
    );
    expect((await rig.inst.core.status()).state).toBe("STOP");
    expect(await rig.inst.core.runs()).toEqual([]);
  });
});
