// Helpers shared by the `hutch` commands of the composition root: core addresses, running until a signal.
import type { CoreAddresses } from "../cli/index.js";
import { componentTypes } from "./component-types.js";
import { loadInstrument } from "./config.js";

/** Addresses from `--core/--bus`, else from the instrument file's `core:` section, else the defaults. */
export function addresses(o: { config?: string; core?: string; bus?: string }): CoreAddresses {
  let control = "tcp://127.0.0.1:5551";
  let publish = "tcp://127.0.0.1:5552";
  let instrument: string | undefined;
  let dataDir: string | undefined;
  const file = o.config ?? process.env.HUTCH_CONFIG;
  if (file) {
    const cfg = loadInstrument(file, componentTypes());
    control = cfg.core.control;
    publish = cfg.core.publish;
    instrument = cfg.instrument;
    dataDir = cfg.core.dataDir;
  }
  return {
    control: o.core ?? control,
    publish: o.bus ?? publish,
    ...(instrument ? { instrument } : {}),
    ...(dataDir ? { dataDir } : {}),
  };
}

/** Runs until SIGINT/SIGTERM, then closes cleanly (a second signal forces exit). */
export async function untilSignal(close: () => Promise<void>): Promise<void> {
  await new Promise<void>((resolve) => {
    const onSig = () => {
      process.off("SIGINT", onSig);
      process.off("SIGTERM", onSig);
      process.once("SIGINT", () => process.exit(130));
      resolve();
    };
    process.on("SIGINT", onSig);
    process.on("SIGTERM", onSig);
  });
  await close();
}
