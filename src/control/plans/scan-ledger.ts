// The PMT scans done so far (serial, run, outcome, flag/archive decision), kept in dataDir, rewritten atomically.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ErrorCode, HutchError } from "../../core/index.js";

/** A flag or archive decision on a scan. */
export interface ScanDecision {
  readonly area: string;
  /** Unix seconds. */
  readonly at: number;
  /** Archived because the next scan started before the operator decided. */
  readonly automatic: boolean;
  readonly moves: readonly { where: string; from: string; to: string }[];
  readonly files: number;
}

/** One scan. */
export interface ScanRecord {
  readonly name: string;
  readonly serial: string;
  readonly plan: string;
  readonly startedAt: number;
  run?: number;
  status: "running" | "done" | "failed" | "aborted";
  endedAt?: number;
  error?: string;
  counts?: { green: number; red: number; yellow: number };
  decision?: ScanDecision;
}

/**
 * `<dataDir>/pmt-scans.json` (the list) and `<dataDir>/pmt-scans/<name>.json` (each scan's results, used as
 * a later scan's reference).
 * @example const l = new ScanLedger(dataDir); l.add({...}); l.update(name, { status: "done" });
 */
export class ScanLedger {
  private readonly file: string;
  private readonly dir: string;
  private scans: ScanRecord[] = [];

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.file = join(dataDir, "pmt-scans.json");
    this.dir = join(dataDir, "pmt-scans");
    if (existsSync(this.file)) {
      try {
        this.scans = (JSON.parse(readFileSync(this.file, "utf8")) as { scans: ScanRecord[] }).scans;
      } catch (cause) {
        throw new HutchError(ErrorCode.Io, `${this.file} is unreadable; move it aside to start afresh`, {
          cause,
        });
      }
    }
  }

  list(): ScanRecord[] {
    return this.scans.map((s) => ({ ...s }));
  }

  get(name: string): ScanRecord | undefined {
    return this.scans.find((s) => s.name === name);
  }

  /** The newest scan. */
  last(): ScanRecord | undefined {
    return this.scans[this.scans.length - 1];
  }

  add(s: ScanRecord): void {
    this.scans.push(s);
    this.save();
  }

  update(name: string, patch: Partial<ScanRecord>): void {
    const s = this.get(name);
    if (!s) return;
    Object.assign(s, patch);
    this.save();
  }

  /** Keeps a scan's results (per cell) for use as a reference. */
  saveResults(name: string, results: Record<string, Record<string, unknown>>): void {
    mkdirSync(this.dir, { recursive: true });
    const plain = JSON.stringify(results, (_k, v: unknown) =>
      ArrayBuffer.isView(v)
        ? Array.from(v as unknown as ArrayLike<number>)
        : (v as { dtype?: string; data?: unknown })?.dtype && (v as { data?: unknown }).data
          ? Array.from((v as { data: ArrayLike<number> }).data)
          : v,
    );
    writeAtomic(join(this.dir, `${name}.json`), plain);
  }

  /** A scan's results, if kept. */
  results(name: string): Record<string, Record<string, unknown>> | undefined {
    const p = join(this.dir, `${name}.json`);
    return existsSync(p)
      ? (JSON.parse(readFileSync(p, "utf8")) as Record<string, Record<string, unknown>>)
      : undefined;
  }

  private save(): void {
    writeAtomic(this.file, JSON.stringify({ version: 1, scans: this.scans }, null, 1));
  }
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
