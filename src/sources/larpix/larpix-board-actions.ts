// Operator actions of the LArPix board source: load board, write/read/validate/set configuration, boards, routines.
import { z } from "zod";
import { LarpixChipConfigUpdateSchema, registersToConfig } from "../../codecs/index.js";
import type { ActionDef } from "../../component/index.js";
import type { BoardLink } from "./board-link.js";
import { readBoardFile, type LarpixController } from "./larpix-controller.js";
import type { RoutineHost } from "./routine-host.js";

/** What the actions reach into. */
export interface ActionHandles {
  controller(): LarpixController;
  links(): readonly BoardLink[];
  lostBoards(): string[];
  readonly routines: RoutineHost;
}

const ChipKeys = z.strictObject({
  chips: z.array(z.string()).optional().describe("chip keys; default every chip"),
});

const action = <P>(def: ActionDef<P>): ActionDef<never> => def as unknown as ActionDef<never>;

/**
 * The actions an operator calls (`hutch larpix ...`, the TypeScript `LarpixOperator`, the dashboard):
 * `load-board`, `write-config`, `read-config`, `validate-config`, `set-config`, `boards`, `routines`, `routine`.
 */
export function larpixBoardActions(h: ActionHandles): Record<string, ActionDef<never>> {
  return {
    "load-board": action({
      description: "load a board file (chips and configurations); write=true also writes them to the chips",
      params: z.strictObject({ file: z.string().min(1), write: z.boolean().default(false) }),
      async run(p, _ctx, progress) {
        const board = readBoardFile(p.file);
        h.controller().setChips(board.chips);
        progress({ message: `loaded ${board.chips.length} chip(s) from ${board.name}` });
        const written = p.write ? await h.controller().writeConfig() : undefined;
        return {
          board: board.name,
          chips: h.controller().chips.map((c) => c.key),
          ...(written ? { written } : {}),
        };
      },
    }),
    "write-config": action({
      description: "write the stored configuration to the chips (all 63 registers)",
      params: ChipKeys,
      async run(p, _ctx, progress) {
        const c = h.controller();
        const out: string[] = [];
        for (const chip of c.select(p.chips)) {
          await c.writeConfig([chip.key]);
          out.push(chip.key);
          progress({ message: `wrote ${chip.key}`, chip: chip.key });
        }
        return { chips: out, registers: 63 * out.length };
      },
    }),
    "read-config": action({
      description: "read a chip's 63 registers back from the chip",
      params: z.strictObject({ chip: z.string() }),
      async run(p) {
        const registers = await h.controller().readConfig(p.chip);
        return {
          chip: h.controller().chip(p.chip).key,
          registers: [...registers],
          config: registersToConfig(registers),
        };
      },
    }),
    "validate-config": action({
      description: "read chips back and compare with the stored configuration",
      params: ChipKeys,
      async run(p, _ctx, progress) {
        const c = h.controller();
        const results = [];
        for (const chip of c.select(p.chips)) {
          const r = await c.validateConfig(chip.key);
          results.push(r);
          progress({
            message: `${r.chip}: ${r.ok ? "ok" : `${Object.keys(r.differences).length} difference(s)`}`,
            ...r,
          });
        }
        return { ok: results.every((r) => r.ok), chips: results };
      },
    }),
    "set-config": action({
      description: "change a chip's stored configuration (and write it unless write=false)",
      params: z.strictObject({
        chip: z.string(),
        config: LarpixChipConfigUpdateSchema,
        write: z.boolean().default(true),
      }),
      async run(p) {
        const c = h.controller();
        const chip = c.chip(p.chip);
        chip.config = { ...chip.config, ...p.config };
        if (p.write) await c.writeConfig([chip.key]);
        return { chip: chip.key, config: chip.config, written: p.write };
      },
    }),
    boards: action({
      description: "the boards (address, io group, last sign of life, lost) and chips",
      params: z.strictObject({}),
      run() {
        const now = performance.now();
        const lost = new Set(h.lostBoards());
        return {
          boards: h.links().map((l) => ({
            name: l.spec.name,
            command: l.commandAddress,
            data: `${l.spec.address}:${l.spec.dataPort}`,
            ioGroup: l.spec.ioGroup,
            quietMs: Math.round(now - l.lastSeenMs),
            messages: l.messages,
            lost: lost.has(l.spec.name),
          })),
          chips: h.controller().chips.map((c) => c.key),
          routine: h.routines.running ?? null,
        };
      },
    }),
    routines: action({
      description: "list the routines with their params (JSON Schema)",
      params: z.strictObject({}),
      run: () => h.routines.registry.list(),
    }),
    routine: action({
      description: "run a routine by name with params; streams its progress, ends with its result or error",
      params: z.strictObject({
        name: z.string().min(1),
        params: z.record(z.string(), z.unknown()).default({}),
      }),
      async run(p, _ctx, progress) {
        const result = await h.routines.run(p.name, p.params, (message, data) =>
          progress(data === undefined ? { message } : { message, data }),
        );
        return { routine: p.name, result };
      },
    }),
  };
}
