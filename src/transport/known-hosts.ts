// OpenSSH known_hosts lookup (plain, wildcard and hashed entries): a remote host is trusted only by its key.
import { createHmac } from "node:crypto";

/** The name a host goes by in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function wildcard(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  );
  return re.test(name);
}

function hashedMatch(entry: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  const parts = entry.split("|");
  if (parts.length !== 4 || parts[1] !== "1") return false;
  const salt = Buffer.from(parts[2]!, "base64");
  const mac = createHmac("sha1", salt).update(name).digest("base64");
  return mac === parts[3];
}

function hostsMatch(field: string, name: string): boolean {
  if (field.startsWith("|")) return hashedMatch(field, name);
  let hit = false;
  for (const p of field.split(",")) {
    if (p.startsWith("!")) {
      if (wildcard(p.slice(1), name)) return false;
    } else if (wildcard(p, name)) hit = true;
  }
  return hit;
}

/**
 * The public key blobs (SSH wire format, as base64-decoded from the file) that known_hosts text lists for a
 * host and port. Revoked (`@revoked`) and CA (`@cert-authority`) lines are not host keys and are skipped.
 * @example const keys = hostKeysFor(readFileSync("~/.ssh/known_hosts", "utf8"), "cluster", 22);
 */
export function hostKeysFor(text: string, host: string, port: number): Buffer[] {
  const name = knownHostName(host, port);
  const out: Buffer[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith("@")) continue;
    const [hosts, , key] = line.split(/\s+/);
    if (!hosts || !key) continue;
    if (hostsMatch(hosts, name)) out.push(Buffer.from(key, "base64"));
  }
  return out;
}

/**
 * The key blob of a public key line (`ssh-ed25519 AAAA... comment`, as in a `.pub` file or known_hosts
 * without the host field).
 */
export function keyBlobOf(line: string): Buffer {
  const b64 = line
    .trim()
    .split(/\s+/)
    .find((p) => /^AAAA[0-9A-Za-z+/]+=*$/.test(p));
  return Buffer.from(b64 ?? "", "base64");
}
