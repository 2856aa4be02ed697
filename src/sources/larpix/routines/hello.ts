// The `hello` routine: greets, lists the boards and chips, and leaves a run message (larpix-daq's hello_world).
import { z } from "zod";
import { defineRoutine } from "./routine.js";

/**
 * Says hello through every channel a routine has: a progress line, a run message and a result.
 * @example hutch routine hello name=LArPix
 */
export const helloRoutine = defineRoutine({
  name: "hello",
  description: "greets the operator and lists the boards and chips",
  params: z.strictObject({ name: z.string().min(1).max(40).default("world") }),
  async run(ctx, p) {
    const greeting = `Hello, ${p.name}!`;
    ctx.progress(greeting);
    await ctx.note(`hello: ${greeting}`);
    return {
      greeting,
      boards: [...ctx.controller.boards.values()].map((l) => l.spec.name),
      chips: ctx.controller.chips.map((c) => c.key),
    };
  },
});
