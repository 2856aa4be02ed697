// Remote storage as the transfer sees it: a few coarse operations (one round trip each over SSH) any backend provides.
import type { Readable } from "node:stream";

/** What `probe` finds at a destination. */
export interface RemoteProbe {
  /** Size of the final file, when it exists. */
  readonly finalBytes?: number;
  /** Size of the partial copy (`<final>.part`), when it exists. */
  readonly partBytes?: number;
}

/** What `seal` did: the sha256 the remote side computed, and (when it matched) the permissions read back. */
export type SealResult =
  | { readonly ok: true; readonly sha256: string; readonly group: string; readonly mode: number }
  | { readonly ok: false; readonly sha256: string };

/**
 * The operations a verified, resumable copy needs, each one round trip. Paths are absolute on the remote side. Every
 * method rejects with a HutchError (HUTCH_ERR_IO) naming the remote, the path and the cause; none hangs past its
 * backend's timeouts.
 */
export interface RemoteStore {
  /** e.g. `ssh mec@s3dfdtn:22` or `local file system`, for messages. */
  readonly description: string;
  /** Creates the destination directory and reports the sizes of the final file and the partial copy. */
  probe(finalPath: string, partPath: string): Promise<RemoteProbe>;
  /** Appends a stream to a file (created when missing); `signal` cuts it. */
  append(path: string, data: Readable, signal?: AbortSignal): Promise<void>;
  /**
   * Computes the sha256 of `from` on the remote side. When it equals `want.sha256`: renames `from` to `to` (when they
   * differ), sets the group (when given) and mode, and reads them back. Otherwise removes `from`.
   */
  seal(from: string, to: string, want: { sha256: string; group?: string; mode: number }): Promise<SealResult>;
  /** Removes a file (no error when missing). */
  remove(path: string): Promise<void>;
  close(): Promise<void>;
}

/** `0o640` -> `"0640"`. */
export function modeString(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;
}
