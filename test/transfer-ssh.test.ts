// Verified transfer over a real OpenSSH server on 127.0.0.1: remote operations, a cut connection, a resumed copy.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Counters, isHutchError, makeLogger } from "../src/core/index.js";
import { SftpRemote, SshRemote, TransferQueue, Transferer, type RemoteStore } from "../src/storage/index.js";
import { haveSshd, startSshd, type TestSshd } from "./transfer-sshd.js";

const log = makeLogger(() => undefined);

type Client = "openssh" | "ssh2";
const storeFor = (client: Client, s: TestSshd, knownHostsFile = s.knownHostsFile): RemoteStore => {
  const o = { host: "127.0.0.1", port: s.port, user: s.user, identityFile: s.identityFile, knownHostsFile };
  return client === "openssh" ? new SshRemote(o) : new SftpRemote(o);
};

describe.skipIf(!haveSshd).each(["openssh", "ssh2"] as const)(
  "transfer over ssh with %s (Debian openssh-server on 127.0.0.1)",
  (client) => {
    let sshd: TestSshd;
    let remote: RemoteStore;
    let dir: string;
    beforeAll(async () => {
      sshd = await startSshd();
      remote = storeFor(client, sshd);
      dir = mkdtempSync(join(tmpdir(), "hutch-remote-"));
    });
    afterAll(async () => {
      await remote?.close();
      await sshd?.close();
    });

    it("probes, appends, verifies on the remote side, renames and sets permissions; a bad copy is removed", async () => {
      const f = join(dir, "a dir", "it's.bin");
      expect(await remote.probe(f, `${f}.part`)).toEqual({});
      await remote.append(`${f}.part`, Readable.from([Buffer.from("hello ")]));
      await remote.append(`${f}.part`, Readable.from([Buffer.from("world")]));
      expect(await remote.probe(f, `${f}.part`)).toEqual({ partBytes: 11 });
      const sha = createHash("sha256").update("hello world").digest("hex");
      expect(await remote.seal(`${f}.part`, f, { sha256: sha, group: "users", mode: 0o640 })).toEqual({
        ok: true,
        sha256: sha,
        group: "users",
        mode: 0o640,
      });
      expect(readFileSync(f, "utf8")).toBe("hello world");
      expect(statSync(f).mode & 0o777).toBe(0o640);
      await remote.append(`${f}.2`, Readable.from([Buffer.from("hellO world")]));
      expect(await remote.seal(`${f}.2`, f, { sha256: sha, mode: 0o640 })).toEqual({
        ok: false,
        sha256: createHash("sha256").update("hellO world").digest("hex"),
      });
      expect(await remote.probe(`${f}.2`, `${f}.3`)).toEqual({}); // the bad copy is gone
      await expect(
        remote.seal(join(dir, "missing"), join(dir, "m2"), { sha256: sha, mode: 0o640 }),
      ).rejects.toSatisfy((e) => isHutchError(e, "HUTCH_ERR_IO"));
    });

    it("refuses a host whose key is not the known one", async () => {
      writeFileSync(
        join(dir, "other_known_hosts"),
        `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJ1Ux3Jq9eK+b7Ewb1lF2t8rZxHfw0QGl4ubVX2R7Yz\n`,
      );
      const wrong = new SshRemote({
        host: "127.0.0.1",
        port: sshd.port,
        user: sshd.user,
        identityFile: sshd.identityFile,
        knownHostsFile: join(dir, "other_known_hosts"),
      });
      await expect(wrong.probe("/tmp/x", "/tmp/y")).rejects.toThrow(
        /connection failed or cut: .*(host key|HOST IDENTIFICATION)/i,
      );
      await wrong.close();
    });

    it("a key file that cannot be read is named, and the next attempt connects once it can", async () => {
      const key = join(dir, "late_key");
      const late = storeFor(client, { ...sshd, identityFile: key });
      await expect(late.probe(join(dir, "x"), join(dir, "x.part"))).rejects.toThrow(/late_key|no such file/i);
      writeFileSync(key, readFileSync(sshd.identityFile), { mode: 0o600 });
      expect(await late.probe(join(dir, "x"), join(dir, "x.part"))).toEqual({});
      await late.close();
    });

    it("cutting the ssh connection mid-copy ends in a resumed, verified copy with its permissions", async () => {
      const local = join(dir, "run00042.h5");
      const data = randomBytes(12 * 1024 * 1024);
      writeFileSync(local, data);
      const sha = createHash("sha256").update(data).digest("hex");
      const queue = TransferQueue.load(join(dir, "queue.json"));
      const target = join(dir, "archive", "mecl1019923", "run00042.h5");
      const e = queue.add({ id: "t1", run: 42, local, remote: target, bytes: data.length, sha256: sha });
      const counters = new Counters();
      let cut = 0;
      let resolveCut!: () => void;
      const cutDone = new Promise<void>((r) => (resolveCut = r));
      const t = new Transferer({
        queue,
        remote,
        group: "users",
        mode: 0o640,
        deleteLocal: false,
        maxAttempts: 5,
        backoffMs: 50,
        maxBackoffMs: 200,
        maxBytesPerSec: 16 * 1024 * 1024,
        log,
        counters,
        onProgress: (_e, done) => {
          if (!cut && done > 3 * 1024 * 1024) {
            cut = sshd.cutConnections(); // the network drops while the file is on its way
            resolveCut();
          }
        },
      });
      t.kick();
      await cutDone;
      expect(cut).toBeGreaterThan(0);
      await t.settled();
      await t.close();
      expect(e.state).toBe("done");
      expect(e.attempts).toBe(2);
      expect(e.resumedFromBytes).toBeGreaterThan(0);
      expect(counters.get("resumed_bytes")).toBe(e.resumedFromBytes);
      expect(counters.get("bytes_sent")).toBeLessThan(2 * data.length - e.resumedFromBytes!); // resumed, not restarted
      expect(createHash("sha256").update(readFileSync(target)).digest("hex")).toBe(sha);
      expect(statSync(target).mode & 0o777).toBe(0o640);
      expect(statSync(target).gid).toBe(100); // users
      expect(statSync(local).size).toBe(data.length); // deleteLocal is off
      expect(TransferQueue.load(join(dir, "queue.json")).entries[0]).toMatchObject({
        state: "done",
        attempts: 2,
      });
    });
  },
);
