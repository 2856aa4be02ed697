// The run catalog: run numbers persisted across restarts, and one row per run (times, config, status, counts, files).
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { ErrorCode, HutchError, type RunFile } from "../core/index.js";
import type { CatalogEntry } from "./api-types.js";

interface CatalogFile {
  version: 1;
  nextRun: number;
  runs: CatalogEntry[];
}

/**
 * A small JSON catalog in `<dataDir>/catalog.json`, rewritten atomically (write + rename) at run boundaries,
 * so a crash never leaves it half-written and run numbers never repeat.
 * @example const cat = new RunCatalog("var/demo"); const n = cat.allocateRun();
 */
export class RunCatalog {
  readonly path: string;
  private data: CatalogFile;

  constructor(dir: string, opts: { firstRun?: number } = {}) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, "catalog.json");
    if (existsSync(this.path)) {
      try {
        const d = JSON.parse(readFileSync(this.path, "utf8")) as CatalogFile;
        if (d.version !== 1 || !Number.isInteger(d.nextRun) || !Array.isArray(d.runs))
          throw new Error("bad layout");
        this.data = d;
      } catch (cause) {
        throw new HutchError(
          ErrorCode.Io,
          `run catalog ${this.path} is unreadable; move it aside to start afresh`,
          {
            cause,
          },
        );
      }
    } else {
      this.data = { version: 1, nextRun: opts.firstRun ?? 1, runs: [] };
      this.save();
    }
  }

  /** Takes the next run number and persists the counter before returning it. */
  allocateRun(): number {
    const n = this.data.nextRun;
    this.data.nextRun = n + 1;
    this.save();
    return n;
  }

  /** The last run number handed out, if any. */
  get lastRun(): number | undefined {
    return this.data.nextRun > 1 ? this.data.nextRun - 1 : undefined;
  }

  /** Records a run that started. */
  begin(entry: CatalogEntry): void {
    this.data.runs.push(entry);
    this.save();
  }

  /** Completes a run's row. */
  finish(
    run: number,
    update: Partial<Pick<CatalogEntry, "stopTime" | "exitStatus" | "reason" | "counts">> & {
      files?: RunFile[];
    },
  ): void {
    const i = this.data.runs.findIndex((r) => r.run === run);
    if (i < 0) return;
    const prev = this.data.runs[i]!;
    this.data.runs[i] = { ...prev, ...update, files: [...prev.files, ...(update.files ?? [])] };
    this.save();
  }

  /** Every run, oldest first. */
  list(): CatalogEntry[] {
    return this.data.runs.map((r) => ({ ...r }));
  }

  /** One run by number. */
  get(run: number): CatalogEntry | undefined {
    return this.data.runs.find((r) => r.run === run);
  }

  private save(): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 1));
    renameSync(tmp, this.path);
  }
}
