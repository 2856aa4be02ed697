// Keeps the last background per experiment, gain and binning on disk, for runs that take no background frames.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeNpyFloat32, npyFloat32Header } from "../../codecs/index.js";
import { ErrorCode, HutchError } from "../../core/index.js";
import type { BackgroundMethod } from "./background.js";

/** What is known of a kept background. */
export interface KeptBackgroundInfo {
  readonly experiment: string;
  readonly gain: number;
  readonly binning: number;
  readonly width: number;
  readonly height: number;
  /** Run that took it, its uid and when (unix s). */
  readonly run: number;
  readonly runUid: string;
  readonly time: number;
  readonly frames: number;
  readonly method: BackgroundMethod;
  readonly detector: string;
}

/** A kept background with its pixels. */
export interface KeptBackground {
  readonly info: KeptBackgroundInfo;
  readonly pixels: Float32Array;
}

/**
 * One directory of kept backgrounds: `<dir>/<experiment>/<detector>_gain<g>_bin<b>.npy` (numpy.load reads it) with a
 * `.json` beside it. Writes go to a temporary name and are renamed, so a crash never leaves half a background.
 * @example const store = new BackgroundStore(join(dataDir, "backgrounds")); await store.keep(info, pixels);
 */
export class BackgroundStore {
  constructor(readonly directory: string) {}

  private base(detector: string, experiment: string, gain: number, binning: number): string {
    return join(this.directory, experiment, `${detector}_gain${gain}_bin${binning}`);
  }

  /** Stores a background as the last one of its experiment, gain and binning. Returns the .npy path. */
  async keep(info: KeptBackgroundInfo, pixels: Float32Array): Promise<string> {
    if (pixels.length !== info.width * info.height) {
      throw new HutchError(
        ErrorCode.Validation,
        `background of ${pixels.length} pixels is not ${info.width} x ${info.height}`,
      );
    }
    const base = this.base(info.detector, info.experiment, info.gain, info.binning);
    await mkdir(join(this.directory, info.experiment), { recursive: true });
    const tmp = `${base}.tmp-${process.pid}`;
    const data = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
    await writeFile(`${tmp}.npy`, [npyFloat32Header([info.height, info.width]), data]); // no 33 MB copy
    await writeFile(`${tmp}.json`, `${JSON.stringify(info, null, 2)}\n`);
    await rename(`${tmp}.npy`, `${base}.npy`);
    await rename(`${tmp}.json`, `${base}.json`);
    return `${base}.npy`;
  }

  /** The last background of an experiment, gain and binning, or undefined when none was kept. */
  async last(
    detector: string,
    experiment: string,
    gain: number,
    binning: number,
  ): Promise<KeptBackground | undefined> {
    const base = this.base(detector, experiment, gain, binning);
    let info: KeptBackgroundInfo;
    let bytes: Buffer;
    try {
      info = JSON.parse(await readFile(`${base}.json`, "utf8")) as KeptBackgroundInfo;
      bytes = await readFile(`${base}.npy`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new HutchError(
        ErrorCode.Io,
        `cannot read the kept background ${base}.npy: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const npy = decodeNpyFloat32(bytes);
    if (npy.shape[0] !== info.height || npy.shape[1] !== info.width) {
      throw new HutchError(
        ErrorCode.Validation,
        `kept background ${base}.npy is [${npy.shape.join(", ")}], its .json says ${info.height} x ${info.width}`,
      );
    }
    return { info, pixels: npy.data };
  }
}
