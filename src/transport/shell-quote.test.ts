import { spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hostKeysFor, keyBlobOf } from "./index.js";
import { shellCommand, shellQuote, shellScript } from "./index.js";

const sh = (line: string) => spawnSync("/bin/sh", ["-c", line], { encoding: "utf8" });

describe("shell quoting", () => {
  it("every argument reaches the program byte for byte through a real sh", () => {
    const args = [
      "",
      "a b",
      "it's",
      "$(id)",
      "`id`",
      "a;b",
      "x\ny",
      "\\",
      "*",
      "~",
      "$HOME",
      "A=b",
      "-n",
      "é✓",
      "'\"'",
    ];
    const r = sh(shellCommand(["printf", "%s\\0", ...args]));
    expect(r.stdout.split("\0").slice(0, -1)).toEqual(args);
    expect(shellQuote("plain-1.2/x")).toBe("plain-1.2/x");
    expect(shellQuote("A=b")).toBe("'A=b'");
    expect(() => shellQuote("a\0b")).toThrow(/NUL byte/);
    const s = sh(shellScript('printf "%s|" "$@"', "name", ["$1", "a b"]));
    expect(s.stdout).toBe("$1|a b|");
  });
});

describe("known_hosts", () => {
  // An ed25519 public key blob as on the wire: string "ssh-ed25519", string of 32 key bytes.
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([str(Buffer.from("ssh-ed25519")), str(randomBytes(32))]);
  const key = `ssh-ed25519 ${blob.toString("base64")}`;
  it("finds plain, bracketed-port, wildcard and hashed entries, and skips revoked ones", () => {
    const salt = randomBytes(20);
    const hashed = `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update("[daq]:2222").digest("base64")}`;
    const text = [
      "# comment",
      `cluster,10.0.0.1 ${key}`,
      `[127.0.0.1]:2200 ${key}`,
      `*.example.org,!bad.example.org ${key}`,
      `${hashed} ${key}`,
      `@revoked other ${key}`,
    ].join("\n");
    expect(hostKeysFor(text, "cluster", 22)).toEqual([blob]);
    expect(hostKeysFor(text, "127.0.0.1", 2200)).toEqual([blob]);
    expect(hostKeysFor(text, "127.0.0.1", 22)).toEqual([]);
    expect(hostKeysFor(text, "login.example.org", 22)).toEqual([blob]);
    expect(hostKeysFor(text, "bad.example.org", 22)).toEqual([]);
    expect(hostKeysFor(text, "daq", 2222)).toEqual([blob]);
    expect(hostKeysFor(text, "other", 22)).toEqual([]);
    expect(keyBlobOf(`${key} me@host`)).toEqual(blob);
  });
});
