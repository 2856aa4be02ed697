// Makes a stored run's documents into a new run that replays it: new uids and run number, marked `replay` in run-start.
import { randomUUID } from "node:crypto";
import { nowSec, type Document } from "../core/index.js";

/** Options of {@link asReplay}. */
export interface ReplayOptions {
  /** Run number of the replay (from run control's run numbers). */
  readonly run: number;
  /** The file replayed (recorded in run-start `replay.file`). */
  readonly file: string;
  /** Start time of the replay (default now). */
  readonly time?: number;
}

/**
 * Re-labels the documents of a stored run (from {@link readRunFile}) as a new run: run-start gets a new uid,
 * the new run number, the time and `replay: { of: <original uid>, file, run: <original run> }`; descriptors get
 * new uids; pages, events and the run-stop point at them. Values, seq numbers and event times are unchanged.
 * @example for await (const doc of asReplay(readRunFile(path), { run: 43, file: path })) await bus.publish(doc);
 */
export async function* asReplay(
  docs: AsyncIterable<Document>,
  opts: ReplayOptions,
): AsyncGenerator<Document> {
  const runUid = randomUUID();
  const descriptors = new Map<string, string>();
  for await (const doc of docs) {
    switch (doc.kind) {
      case "run-start":
        yield {
          ...doc,
          uid: runUid,
          run: opts.run,
          time: opts.time ?? nowSec(),
          replay: { of: doc.uid, file: opts.file, run: doc.run },
        };
        break;
      case "descriptor": {
        const uid = randomUUID();
        descriptors.set(doc.uid, uid);
        yield { ...doc, uid, runUid };
        break;
      }
      case "event":
      case "event-page":
        yield { ...doc, runUid, descriptor: descriptors.get(doc.descriptor) ?? doc.descriptor };
        break;
      case "run-stop":
        yield { ...doc, uid: randomUUID(), runUid, run: opts.run, time: nowSec() };
        break;
      default:
        yield doc;
    }
  }
}
