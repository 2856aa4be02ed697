// The `larpix-board` component: LArPix data boards -> `packets` and `messages` streams, configuration, routines.
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ZodType } from "zod";
import { defineComponent, type ComponentContext, type ComponentHooks } from "../../component/index.js";
import { ErrorCode, HutchError, nowSec, toHutchError, type StreamFactory } from "../../core/index.js";
import { BoardLink } from "./board-link.js";
import { BoardWatchdog } from "./board-watchdog.js";
import { larpixBoardActions } from "./larpix-board-actions.js";
import { LarpixBoardParamsSchema, chipsOf, type LarpixBoardParams } from "./larpix-board-params.js";
import { LarpixController, readBoardFile } from "./larpix-controller.js";
import { PacketReceiver } from "./packet-receiver.js";
import { LARPIX_FORMAT, LARPIX_MESSAGE_FIELDS, LARPIX_PACKET_FIELDS } from "./packet-streams.js";
import { PixelLayout } from "./pixel-layout.js";
import { RoutineHost, type RunOutputs } from "./routine-host.js";
import { builtinRoutines, isRoutine, type RoutineRegistry } from "./routines/index.js";

/** Loads plug-in routine modules: every export that looks like a routine is registered. */
async function loadRoutineModules(registry: RoutineRegistry, modules: readonly string[]): Promise<void> {
  for (const m of modules) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(resolve(m)).href)) as Record<string, unknown>;
    } catch (cause) {
      throw new HutchError(ErrorCode.Config, `routine module ${m}: cannot load it: ${String(cause)}`, {
        cause,
      });
    }
    const found = Object.values(mod).filter(isRoutine);
    if (found.length === 0) throw new HutchError(ErrorCode.Config, `routine module ${m} exports no routine`);
    for (const r of found) registry.register(r);
  }
}

function layoutOf(p: LarpixBoardParams, chipKeys: readonly string[]): PixelLayout {
  return p.pixelLayout ? PixelLayout.load(p.pixelLayout) : PixelLayout.sequential(chipKeys);
}

/** One run's streams. */
interface RunStreams {
  readonly run: number;
  readonly packets: StreamFactory;
  readonly messages: StreamFactory;
  readonly extra: Map<string, StreamFactory>;
}

/** Relative file paths in params resolve against the instrument file's folder, not the working directory. */
function anchored(p: LarpixBoardParams, dir: string): LarpixBoardParams {
  const at = (f: string) => (isAbsolute(f) ? f : resolve(dir, f));
  return {
    ...p,
    ...(p.pixelLayout ? { pixelLayout: at(p.pixelLayout) } : {}),
    ...(p.boardFile ? { boardFile: at(p.boardFile) } : {}),
    ...(p.routineModules
      ? { routineModules: p.routineModules.map((m) => (m.startsWith(".") ? at(m) : m)) }
      : {}),
  };
}

async function createHooks(params: LarpixBoardParams, ctx: ComponentContext): Promise<ComponentHooks> {
  let p = anchored(params, ctx.configDir);
  const registry = builtinRoutines();
  await loadRoutineModules(registry, p.routineModules);
  const chipKeys = () => chipsOf(p).map((c) => (typeof c === "string" ? c : c.key));
  let layout = layoutOf(p, chipKeys());
  const receiver = new PacketReceiver(ctx, layout, p.maxPendingPages, p.batchPackets);
  const openLinks = async (q: LarpixBoardParams) => {
    const m = new Map<number, BoardLink>();
    for (const b of q.boards) {
      m.set(
        b.ioGroup,
        await BoardLink.open(b, {
          requestTimeoutMs: q.requestTimeoutMs,
          onMessage: (msg) => receiver.onMessage(msg, b.name, b.ioGroup),
          log: ctx.log,
        }),
      );
    }
    return m;
  };
  let links = await openLinks(p);
  const newController = () => {
    const c = new LarpixController(
      links,
      receiver,
      p.boardFile ? readBoardFile(p.boardFile).chips : chipsOf(p),
      p.readTimeoutMs,
    );
    c.clockKHz = p.clockKHz;
    return c;
  };
  let controller = newController();
  const watchdog = new BoardWatchdog([...links.values()], {
    pingIntervalMs: p.pingIntervalMs,
    lostAfterMs: p.lostAfterMs,
    onLost: (link, reason) => {
      ctx.counters.set(`board_${link.spec.name}_lost`, 1);
      ctx.fail(reason); // the core logs it and ends (or pauses) the run with this reason
    },
  });
  const routines = new RoutineHost(
    ctx,
    registry,
    () => controller,
    (g, c, id, ch) => layout.pixelOf(g, c, id, ch),
  );
  let run: RunStreams | undefined;

  const message = async (text: string) => {
    if (!run) return;
    await ctx.bus.publish(run.messages.event({ message: text, timestamp: Math.floor(nowSec()) }));
  };
  const outputs = (r: RunStreams): RunOutputs => ({
    run: r.run,
    message,
    stream: async (name, fields) => {
      let f = r.extra.get(name);
      if (!f) {
        f = ctx.stream(name, fields, { configuration: { component: ctx.name } });
        r.extra.set(name, f);
        await ctx.bus.publish(f.descriptor);
      }
      return f;
    },
  });
  const endRun = async () => {
    await receiver.drain();
    receiver.setStream(undefined);
    await routines.attach(undefined);
    run = undefined;
  };
  const closeLinks = async () => {
    watchdog.disarm();
    for (const l of links.values()) await l.close();
  };

  return {
    async configure(config) {
      const next = anchored(LarpixBoardParamsSchema.parse(config), ctx.configDir);
      if (
        JSON.stringify(next.boards) !== JSON.stringify(p.boards) ||
        next.requestTimeoutMs !== p.requestTimeoutMs
      ) {
        await closeLinks();
        p = next;
        links = await openLinks(p);
      }
      p = next;
      controller = newController();
      layout = layoutOf(p, chipKeys());
      receiver.setLayout(layout);
      for (const l of links.values()) {
        await l.command("PING_HB").catch((err: unknown) => {
          const e = toHutchError(err);
          throw new HutchError(
            e.code,
            `board '${l.spec.name}' (${l.commandAddress}) is not answering: ${e.message}`,
            {
              cause: err,
            },
          );
        });
      }
      if (p.resetOnPrepare) await controller.boardCommand("SYRESET");
      await controller.boardCommand(`SETFREQ 0x${p.clockKHz.toString(16)}`);
      if (p.writeConfigOnPrepare) await controller.writeConfig();
      for (const l of links.values()) ctx.counters.set(`board_${l.spec.name}_lost`, 0);
      watchdog.arm([...links.values()]);
      ctx.log.info(
        `${links.size} board(s), ${controller.chips.length} chip(s) ready; pixel layout '${layout.name}' (${layout.pixels} pixels)`,
      );
    },
    async start(info) {
      const configuration = {
        format: LARPIX_FORMAT.packets,
        boards: p.boards,
        chips: controller.chips.map((c) => c.key),
        pixelLayout: layout.name,
        pixels: layout.pixels,
        clockKHz: p.clockKHz,
      };
      const packets = ctx.stream(p.stream, LARPIX_PACKET_FIELDS, { configuration });
      const messages = ctx.stream(p.messagesStream, LARPIX_MESSAGE_FIELDS, {
        configuration: { format: LARPIX_FORMAT.messages },
      });
      await ctx.bus.publish(packets.descriptor);
      await ctx.bus.publish(messages.descriptor);
      run = { run: info.run, packets, messages, extra: new Map() };
      receiver.setStream(packets);
      await message("Beginning run");
      await routines.attach(outputs(run));
      ctx.log.info("Beginning run");
    },
    async stop() {
      await message("Ending run");
      await endRun();
      ctx.log.info("Ending run");
    },
    async reset() {
      watchdog.disarm();
      await endRun();
    },
    actions: larpixBoardActions({
      controller: () => controller,
      links: () => [...links.values()],
      lostBoards: () => watchdog.lostBoards,
      routines,
    }),
    async close() {
      await endRun();
      await closeLinks();
    },
  };
}

/**
 * LArPix data boards (larpix-control's ZMQ protocol): at prepare it pings every board, resets the chips, sets
 * the clock and writes their configurations; during a run it publishes every packet (received and sent) on
 * `packets` with its pixel, and "Beginning run" / "Ending run" on `messages`. Bad parity and garbage are
 * counted, never fatal; a board silent for `lostAfterMs` fails the component with a reason naming it (the run
 * records why). Actions: load-board, write/read/validate/set-config, boards, routines, routine.
 * @example components: [{ name: board, type: larpix-board, params: { boards: [{ name: b1, ioGroup: 1 }] } }]
 */
export const larpixBoardComponent = defineComponent<LarpixBoardParams>({
  type: "larpix-board",
  description: "LArPix v1 data boards: packets, configuration, routines (calibrate)",
  role: "source",
  params: LarpixBoardParamsSchema as unknown as ZodType<LarpixBoardParams>,
  create: (params, ctx) => createHooks(params, ctx),
});
