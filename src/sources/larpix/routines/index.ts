// The routines shipped with Hutch (hello, calibrate) and the plug-in registry they live in.
import { calibrateRoutine } from "./calibrate.js";
import { helloRoutine } from "./hello.js";
import { RoutineRegistry } from "./routine.js";

export * from "./routine.js";
export * from "./hello.js";
export * from "./calibrate.js";

/**
 * A registry with the built-in routines `hello` and `calibrate`; a source adds plug-in modules' routines to it.
 * @example const r = builtinRoutines(); r.register(myRoutine);
 */
export function builtinRoutines(): RoutineRegistry {
  const r = new RoutineRegistry();
  r.register(helloRoutine);
  r.register(calibrateRoutine);
  return r;
}
