// The POSIX shell steps both SSH backends run on the remote host (probe, seal), and how their answers are read.
import { posix } from "node:path";
import { ErrorCode, HutchError } from "../../core/index.js";
import { shellQuote as q } from "../../transport/index.js";
import { modeString, type RemoteProbe, type SealResult } from "./remote-store.js";

/** `mkdir -p` of the destination, then the sizes of the final file and the partial copy (`-` when missing). */
export function probeScript(finalPath: string, partPath: string): string {
  return `mkdir -p -- ${q(posix.dirname(finalPath))} && for f in ${q(finalPath)} ${q(partPath)}; do stat -c %s -- "$f" 2>/dev/null || echo -; done`;
}

/** Reads the two lines `probeScript` prints. */
export function parseProbe(out: string): RemoteProbe {
  const [f, p] = out.trim().split("\n");
  const num = (s: string | undefined) => (s && /^\d+$/.test(s) ? Number(s) : undefined);
  const finalBytes = num(f);
  const partBytes = num(p);
  return {
    ...(finalBytes !== undefined ? { finalBytes } : {}),
    ...(partBytes !== undefined ? { partBytes } : {}),
  };
}

/**
 * sha256sum of `from` on the remote host; on a match: mv to `to`, chgrp, chmod, and `OK <sha> <group> <mode>`
 * read back with stat; otherwise `rm` of `from` and `MISMATCH <sha>`.
 */
export function sealScript(
  from: string,
  to: string,
  want: { sha256: string; group?: string; mode: number },
): string {
  return [
    `s=$(sha256sum -- ${q(from)} | cut -d ' ' -f 1) || exit 3`,
    `if [ "$s" != ${q(want.sha256)} ]; then rm -f -- ${q(from)}; echo "MISMATCH $s"; exit 0; fi`,
    from === to ? "" : `mv -f -- ${q(from)} ${q(to)} || exit 4`,
    want.group === undefined ? "" : `chgrp -- ${q(want.group)} ${q(to)} || exit 5`,
    `chmod -- ${modeString(want.mode)} ${q(to)} || exit 6`,
    `echo "OK $s $(stat -c '%G %a' -- ${q(to)})"`,
  ]
    .filter(Boolean)
    .join("\n");
}

/** Reads what `sealScript` prints; anything else is an error naming the answer. */
export function parseSeal(out: string, where: string): SealResult {
  const text = out.trim();
  const ok = /^OK ([0-9a-f]{64}) (\S+) ([0-7]+)$/.exec(text);
  if (ok) return { ok: true, sha256: ok[1]!, group: ok[2]!, mode: parseInt(ok[3]!, 8) };
  const bad = /^MISMATCH ([0-9a-f]*)$/.exec(text);
  if (bad) return { ok: false, sha256: bad[1]! };
  throw new HutchError(ErrorCode.Io, `${where}: seal: unexpected answer '${text.slice(0, 120)}'`);
}
