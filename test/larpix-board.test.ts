// The LArPix board source against the simulated board over loopback ZeroMQ: protocol, configuration, faults.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LARPIX_TYPE, fieldsOf, readWord } from "../src/codecs/index.js";
import type { EventPage } from "../src/core/index.js";
import { LarpixBoardSim } from "../src/sim/larpix/index.js";
import { larpixBoardComponent, type BoardSpec } from "../src/sources/larpix/index.js";
import {
  capture,
  eventsOf,
  hostStage,
  pagesOf,
  until,
  type StageHarness,
} from "./helpers/analysis-context.js";

const portOf = (a: string) => Number(a.slice(a.lastIndexOf(":") + 1));
const boardOf = (sim: LarpixBoardSim, name: string, ioGroup: number): BoardSpec => ({
  name,
  address: "tcp://127.0.0.1",
  commandPort: portOf(sim.commandAddress),
  dataPort: portOf(sim.dataAddress),
  ioGroup,
});

describe("LArPix board source <-> simulated board", () => {
  const sims: LarpixBoardSim[] = [];
  let h: StageHarness | undefined;
  afterEach(async () => {
    await h?.close();
    for (const s of sims.splice(0)) await s.close();
    h = undefined;
  });
  const sim = async (o: Parameters<typeof LarpixBoardSim.open>[0] = {}) => {
    const s = await LarpixBoardSim.open({
      commandPort: 0,
      dataPort: 0,
      manual: true,
      heartbeatIntervalMs: 50,
      ...o,
    });
    sims.push(s);
    return s;
  };

  it("prepares the board (reset, clock, all 63 registers of 4 chips) and validates the configuration", async () => {
    const s = await sim();
    h = await hostStage(larpixBoardComponent, { boards: [boardOf(s, "b1", 1)], clockKHz: 5000 });
    await h.configure();
    expect(s.stats.resets).toBe(1);
    expect(s.clockKHz).toBe(5000);
    expect(s.stats.configWrites).toBe(4 * 63);
    const v = (await h.action("validate-config", {})) as { ok: boolean; chips: { chip: string }[] };
    expect(v.ok).toBe(true);
    expect(v.chips.map((c) => c.chip)).toEqual(["1-1-246", "1-1-245", "1-1-252", "1-1-243"]);

    // The chip drifts (as after a glitch): validation names the field with both values.
    s.chips.find((c) => c.id === 252)!.registers[32] = 99;
    const bad = (await h.action("validate-config", { chips: ["1-1-252"] })) as {
      ok: boolean;
      chips: { differences: Record<string, unknown> }[];
    };
    expect(bad.ok).toBe(false);
    expect(bad.chips[0]!.differences).toEqual({ global_threshold: [99, 40] });
    const read = (await h.action("read-config", { chip: "1-1-252" })) as { registers: number[] };
    expect(read.registers[32]).toBe(99);
    await h.action("write-config", { chips: ["1-1-252"] });
    expect(s.chips.find((c) => c.id === 252)!.registers[32]).toBe(40);

    // set-config changes the stored configuration and writes it.
    await h.action("set-config", { chip: "1-1-245", config: { global_threshold: 77 } });
    expect(s.chips.find((c) => c.id === 245)!.registers[32]).toBe(77);
    expect(h.failures).toEqual([]);
  });

  it("names the registers that do not come back from a chip the board does not have", async () => {
    const s = await sim();
    h = await hostStage(larpixBoardComponent, {
      boards: [boardOf(s, "b1", 1)],
      chips: ["1-1-246", "1-1-7"],
      writeConfigOnPrepare: false,
      readTimeoutMs: 150,
    });
    await h.configure();
    await expect(h.action("read-config", { chip: "1-1-7" })).rejects.toMatchObject({
      code: "HUTCH_ERR_TIMEOUT",
      message: expect.stringMatching(/chip 1-1-7: 63 of 63 registers not read back within 150 ms/),
    });
    await expect(h.action("read-config", { chip: "9-9-9" })).rejects.toThrow(
      /no chip 9-9-9 \(chips: 1-1-246, 1-1-7\)/,
    );
  });

  it("publishes every packet of a run with exact fields; bad parity and garbage are counted, not fatal", async () => {
    const s = await sim({ badParityFraction: 0.2, seed: 11 });
    h = await hostStage(larpixBoardComponent, {
      boards: [boardOf(s, "b1", 3)],
      chips: ["3-1-246", "3-1-245", "3-1-252", "3-1-243"],
    });
    await h.configure();
    await until(() => h!.counters.get("board_b1_heartbeats") > 0, 5000, "the data socket to connect");
    const cap = capture(h.bus, "test/");
    await h.start();
    const sent: Uint8Array[] = [];
    for (let k = 0; k < 5; k++) {
      sent.push(await s.emit(40));
      await s.emitGarbage(2);
    }
    await until(() => h!.counters.get("packets_data") >= 200, 5000, "200 data packets");
    const rejected = () =>
      ["short", "version", "unknown_kind", "bad_length"].map((r) =>
        h!.counters.get(`messages_rejected_${r}`),
      );
    await until(() => rejected().reduce((a, b) => a + b) === 10, 5000, "the 10 garbage messages");
    await h.stop();
    const docs = await cap.drain();
    const pages = pagesOf(docs, "packets");
    const data = (p: EventPage, f: string) => Array.from(p.data[f]!.data as ArrayLike<number | bigint>);
    const rows = pages.flatMap((p) => data(p, "type").map((t, i) => ({ p, i, t })));
    const dataRows = rows.filter((r) => r.t === LARPIX_TYPE.data);
    expect(dataRows.length).toBe(200);
    const expected = sent.flatMap((b) =>
      Array.from({ length: b.length / 7 }, (_, k) => fieldsOf(readWord(b, 7 * k))),
    );
    dataRows.forEach(({ p, i }, k) => {
      const e = expected[k]!;
      expect([
        p.data.chip_id!.data[i],
        p.data.channel!.data[i],
        p.data.timestamp!.data[i],
        p.data.adc!.data[i],
        p.data.valid_parity!.data[i],
        p.data.io_group!.data[i],
        p.data.io_channel!.data[i],
        p.data.pixel!.data[i],
      ]).toEqual([
        e.chipId,
        e.channel,
        BigInt(e.timestamp!),
        e.adc,
        e.validParity ? 1 : 0,
        3,
        1,
        [246, 245, 252, 243].indexOf(e.chipId) * 32 + e.channel!,
      ]);
    });
    const bad = expected.filter((e) => !e.validParity).length;
    expect(bad).toBeGreaterThan(10);
    expect(h.counters.get("packets_bad_parity")).toBe(bad);
    expect(s.stats.garbageMessages).toBe(10);
    expect(rejected()).toEqual([3, 3, 2, 2]);
    expect(
      h.logs.some((l) => l.level === "warn" && /rejected a message from board 'b1'/.test(l.message)),
    ).toBe(true);
    expect(eventsOf(docs, "messages").map((e) => e.data.message)).toEqual(["Beginning run", "Ending run"]);
    expect(h.failures).toEqual([]);
  });

  it("records packets sent to the chips during a run (direction 0)", async () => {
    const s = await sim();
    h = await hostStage(larpixBoardComponent, { boards: [boardOf(s, "b1", 1)], writeConfigOnPrepare: false });
    await h.configure();
    const cap = capture(h.bus, "test/packets/");
    await h.start();
    await h.action("write-config", { chips: ["1-1-243"] });
    await h.stop();
    const pages = pagesOf(await cap.drain(), "packets");
    const sentRows = pages.flatMap((p) =>
      [...(p.data.direction!.data as Uint8Array)].map((d, i) => ({
        d,
        type: p.data.type!.data[i],
        reg: p.data.register!.data[i],
      })),
    );
    const writes = sentRows.filter((r) => r.d === 0);
    expect(writes.length).toBe(63);
    expect(writes.every((r) => r.type === LARPIX_TYPE.configWrite)).toBe(true);
    expect(writes.map((r) => r.reg)).toEqual(Array.from({ length: 63 }, (_, i) => i));
  });

  it("reports a board that stops answering as lost, naming it; prepare then refuses it", async () => {
    const s = await sim();
    h = await hostStage(larpixBoardComponent, {
      boards: [boardOf(s, "b7", 1)],
      pingIntervalMs: 50,
      lostAfterMs: 400,
      requestTimeoutMs: 200,
      writeConfigOnPrepare: false,
    });
    await h.configure();
    await h.start();
    const hungAt = Date.now();
    s.hang();
    await until(() => h!.failures.length > 0, 3000, "the board to be declared lost");
    const took = Date.now() - hungAt;
    expect(h.failures[0]).toMatch(
      /board 'b7' \(tcp:\/\/127\.0\.0\.1:\d+\) stopped answering: no reply and no data for \d+ ms \(limit 400 ms\)/,
    );
    expect(took).toBeGreaterThanOrEqual(350);
    expect(took).toBeLessThan(2000);
    expect(h.counters.get("board_b7_lost")).toBe(1);
    await h.stop();
    await expect(h.configure()).rejects.toThrow(
      /board 'b7' \(tcp:\/\/127\.0\.0\.1:\d+\) is not answering: .*no reply to PING_HB within 200 ms/,
    );
  });

  it("loads plug-in routines from a module and runs them with validated params", async () => {
    const s = await sim();
    const dir = mkdtempSync(join(tmpdir(), "hutch-routine-"));
    const mod = join(dir, "count-chips.mjs");
    // A plug-in needs no import: any schema object with safeParse will do (zod in real modules).
    writeFileSync(
      mod,
      `export const countChips = {
        name: "count-chips",
        description: "counts the chips",
        params: { safeParse: (v) => (typeof v.times === "number" ? { success: true, data: v } : { success: false, error: { issues: [{ path: ["times"], message: "expected a number" }] } }) },
        async run(ctx, p) { ctx.progress("counting"); return ctx.controller.chips.length * p.times; },
      };`,
    );
    h = await hostStage(larpixBoardComponent, {
      boards: [boardOf(s, "b1", 1)],
      writeConfigOnPrepare: false,
      routineModules: [mod],
    });
    const list = (await h.action("routines", {})) as { name: string }[];
    expect(list.map((r) => r.name)).toEqual(["hello", "calibrate", "count-chips"]);
    expect(await h.action("routine", { name: "count-chips", params: { times: 2 } })).toEqual({
      routine: "count-chips",
      result: 8,
    });
    await expect(h.action("routine", { name: "count-chips", params: {} })).rejects.toThrow(
      /routine count-chips: params.times: expected a number/,
    );
  });
});
