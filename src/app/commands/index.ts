// Extra `hutch` commands, one module per instrument family (sim, replay, relay, routines...). Each exports `register`.
import type { Command } from "commander";
import { registerSimTargetC } from "./sim-target-c.js";
import { registerRunFileCommands } from "./run-files.js";
import { registerLarpixCommands } from "./larpix.js";
import { registerAreaDetectorCommands } from "./area-detector.js";
import { registerBeamlineCommands } from "./beamline.js";
import { registerPmtCommands } from "./pmt.js";

/** A module that adds commands to the `hutch` program. */
export type CommandModule = (program: Command) => void;

/** Every extra command module; add one line per module. */
export const COMMAND_MODULES: CommandModule[] = [
  registerSimTargetC,
  registerRunFileCommands,
  registerLarpixCommands,
  registerAreaDetectorCommands,
  registerBeamlineCommands,
  registerPmtCommands,
];
