// The `larpix-board-sim` component: a simulated data board inside `hutch up`, so a preset runs without hardware.
import type { ZodType } from "zod";
import { defineComponent } from "../../component/index.js";
import { LarpixBoardSim } from "./larpix-board-sim.js";
import { LarpixBoardSimOptionsSchema, type LarpixBoardSimOptions } from "./sim-options.js";

/**
 * A simulated LArPix data board, bound when the instrument starts and closed with it (hardware does not follow
 * runs). Its counters (`packets`, `commands`, `config_writes`, ...) show what it sent and received.
 * @example components: [{ name: board-sim, type: larpix-board-sim, params: { commandPort: 5555, dataPort: 5556 } }]
 */
export const larpixBoardSimComponent = defineComponent<LarpixBoardSimOptions>({
  type: "larpix-board-sim",
  description: "simulated LArPix v1 data board (chips 246/245/252/243) on ZeroMQ REQ/REP + PUB",
  params: LarpixBoardSimOptionsSchema as unknown as ZodType<LarpixBoardSimOptions>,
  async create(params, ctx) {
    const sim = await LarpixBoardSim.open(params);
    ctx.log.info(`simulated board: commands at ${sim.commandAddress}, data at ${sim.dataAddress}`);
    const timer = setInterval(() => {
      const s = sim.stats;
      ctx.counters.set("packets", s.packets);
      ctx.counters.set("data_messages", s.dataMessages);
      ctx.counters.set("commands", s.commands);
      ctx.counters.set("config_writes", s.configWrites);
      ctx.counters.set("config_reads", s.configReads);
      ctx.counters.set("garbage_messages", s.garbageMessages);
      ctx.counters.set("bad_parity_packets", s.badParityPackets);
    }, 1000);
    timer.unref();
    return {
      async close() {
        clearInterval(timer);
        await sim.close();
      },
    };
  },
});
