// A full LArPix instrument (startInstrument) against two simulated boards: run files read back exactly by h5py.
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fieldsOf, readWord } from "../src/codecs/index.js";
import { componentTypes } from "../src/app/component-types.js";
import { loadInstrument } from "../src/app/config.js";
import { startInstrument, type Instance } from "../src/app/instance.js";
import { connect, resultOf, type OperatorClient } from "../src/control/index.js";
import { LarpixBoardSim } from "../src/sim/larpix/index.js";
import { LarpixOperator } from "../src/sources/larpix/index.js";
import { runPython } from "./helpers/h5py.js";
import { tempInstrument, until } from "./helpers/instrument.js";

const portOf = (a: string) => Number(a.slice(a.lastIndexOf(":") + 1));
const CHIPS = [246, 245, 252, 243];
const PIXELS = resolve("examples/larpix-pixels.yaml");

/** Reads the three files with h5py; prints JSON the test checks. */
const READ = String.raw`
import sys, json, h5py, numpy as np
v1, strict, generic = sys.argv[1:4]
out = {}
with h5py.File(v1, "r") as f:
    h = f["_header"]
    vid = h.attrs.get_id("version")
    s = h5py.check_string_dtype(vid.dtype)
    out["version"] = {"value": h.attrs["version"], "is_str": isinstance(h.attrs["version"], str),
                      "vlen": s is not None and s.length is None}
    out["created"] = float(h.attrs["created"]); out["modified"] = float(h.attrs["modified"])
    p = f["packets"]
    out["packets_dtype"] = [(n, p.dtype[n].str) for n in p.dtype.names]
    out["maxshape"] = list(p.maxshape)
    out["packet_types"] = p.attrs["packet_types"]
    rows = p[()]
    # larpix-control's reader takes fields by position: chip_key 0, type 1, chipid 2, parity 3, valid_parity 4,
    # channel 5, timestamp 6, adc_counts 7, ..., counter 12, direction 13.
    out["rows"] = [[r[0].decode(), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6]), int(r[7]),
                    int(r[12]), int(r[13])] for r in rows]
    m = f["messages"]
    out["messages_dtype"] = [(n, m.dtype[n].str) for n in m.dtype.names]
    out["messages"] = [[r[0].decode(), int(r[1]), int(r[2])] for r in m[()]]
with h5py.File(strict, "r") as f:
    p = f["packets"]
    out["strict_adc_dtype"] = p.dtype["adc_counts"].str
    out["strict_adc"] = [int(x) for x in p["adc_counts"][p["type"] == 0]]
    out["strict_saturated"] = int(f["_header"].attrs["adc_counts_saturated"])
with h5py.File(generic, "r") as f:
    d = f["packets/data"]
    sel = d["type"][()] == 0
    out["generic_adc_dtype"] = d["adc"].dtype.str
    out["generic"] = {k: [int(x) for x in d[k][()][sel]] for k in ["io_group", "chip_id", "channel", "timestamp", "adc", "pixel"]}
print(json.dumps(out))
`;

interface Read {
  version: { value: string; is_str: boolean; vlen: boolean };
  created: number;
  modified: number;
  packets_dtype: [string, string][];
  maxshape: (number | null)[];
  packet_types: string;
  rows: [string, number, number, number, number, number, number, number, number, number][];
  messages_dtype: [string, string][];
  messages: [string, number, number][];
  strict_adc_dtype: string;
  strict_adc: number[];
  strict_saturated: number;
  generic_adc_dtype: string;
  generic: Record<string, number[]>;
}

describe("LArPix run files", () => {
  let inst: Instance | undefined;
  let op: OperatorClient | undefined;
  const sims: LarpixBoardSim[] = [];
  beforeAll(async () => {
    for (const seed of [1, 2]) {
      sims.push(
        await LarpixBoardSim.open({
          commandPort: 0,
          dataPort: 0,
          manual: true,
          seed,
          signalMeanAdc: 300, // plenty of values above 255 for the strict layout
          heartbeatIntervalMs: 50,
          timestampIntervalMs: 100,
        }),
      );
    }
  });
  afterAll(async () => {
    await op?.close();
    await inst?.close();
    for (const s of sims) await s.close();
  });

  it("writes the generic file and the LArPix+HDF5 v1.0 flavour (full and strict ADC) that h5py reads exactly", async () => {
    const t = await tempInstrument({
      instrument: "lp",
      components: [
        {
          name: "board",
          type: "larpix-board",
          params: {
            boards: sims.map((s, i) => ({
              name: `b${i + 1}`,
              commandPort: portOf(s.commandAddress),
              dataPort: portOf(s.dataAddress),
              ioGroup: i + 1,
            })),
            chips: [1, 2].flatMap((g) => CHIPS.map((c) => `${g}-1-${c}`)),
            pixelLayout: PIXELS,
          },
        },
        { name: "writer", type: "hdf5-writer", params: { directory: "runs" } },
        {
          name: "datalog",
          type: "hdf5-writer",
          params: {
            directory: "datalog",
            pattern: "datalog_{date}_{time}_run{run}_.h5",
            layouts: ["larpix-v1"],
            streams: ["packets", "messages"],
          },
        },
        {
          name: "strict",
          type: "hdf5-writer",
          params: { directory: "strict", layouts: ["larpix-v1-strict"], streams: ["packets", "messages"] },
        },
        { name: "recent", type: "larpix-monitor", params: { keep: 100, publishIntervalMs: 100 } },
      ],
    });
    inst = await startInstrument(loadInstrument(t.file, componentTypes()), { quiet: true });
    op = connect(t.control);
    const lp = new LarpixOperator(op);
    const counters = async () => (await op!.status()).components.find((c) => c.name === "board")!.counters;
    await resultOf(lp.prepareRun());
    await until(async () => {
      const c = await counters();
      return (c.board_b1_heartbeats ?? 0) > 0 && (c.board_b2_heartbeats ?? 0) > 0;
    }, "both boards' data sockets");
    const started = (await resultOf(lp.beginRun())) as { run: number };
    const ts0 = (await counters()).packets_timestamp ?? 0;
    const sent = [await sims[0]!.emit(300), await sims[1]!.emit(200), await sims[0]!.emit(100)];
    await until(async () => ((await counters()).packets_data ?? 0) >= 600, "600 data packets");
    // Board timestamps come every 100 ms: a fast machine can get here before the first one of the run.
    await until(
      async () => ((await counters()).packets_timestamp ?? 0) >= ts0 + 4,
      "board timestamps in the run",
    );
    const recent = (await resultOf(lp.recent(5))) as {
      packets: { adc: number }[];
      messages: { message: string }[];
    };
    expect(recent.packets.length).toBe(5);
    expect(recent.messages.map((m) => m.message)).toEqual(["Beginning run"]);
    const ended = (await resultOf(lp.endRun("test done"))) as {
      run: number;
      exitStatus: string;
      files: { path: string; component: string }[];
    };
    expect(ended).toMatchObject({ run: started.run, exitStatus: "success" });
    const file = (c: string) => ended.files.find((f) => f.component === c)!.path;
    expect(file("datalog")).toMatch(/datalog_\d{8}_\d{6}_run\d+_\.h5$/);
    const r = JSON.parse(await runPython(READ, [file("datalog"), file("strict"), file("writer")])) as Read;

    // _header: version is a variable-length str (larpix-control 2.3 with h5py 3 needs it), times are floats.
    expect(r.version).toEqual({ value: "1.0", is_str: true, vlen: true });
    expect(r.modified).toBeGreaterThanOrEqual(r.created);
    expect(r.packets_dtype).toEqual([
      ["chip_key", "|S32"],
      ["type", "|u1"],
      ["chipid", "|u1"],
      ["parity", "|u1"],
      ["valid_parity", "|u1"],
      ["channel", "|u1"],
      ["timestamp", "<u8"],
      ["adc_counts", "<u2"],
      ["fifo_half", "|u1"],
      ["fifo_full", "|u1"],
      ["register", "|u1"],
      ["value", "|u1"],
      ["counter", "<u4"],
      ["direction", "|u1"],
    ]);
    expect(r.maxshape).toEqual([null]);
    expect(r.packet_types).toContain("5: 'message'");
    expect(r.messages_dtype).toEqual([
      ["message", "|S64"],
      ["timestamp", "<u8"],
      ["index", "<u4"],
    ]);
    expect(r.messages.map((m) => [m[0], m[2]])).toEqual([
      ["Beginning run", 0],
      ["Ending run", 1],
    ]);
    // Message rows in packets: type 5, counter = message index, timestamp = message time.
    const msgRows = r.rows.filter((x) => x[1] === 5);
    expect(msgRows.map((x) => [x[8], x[6]])).toEqual(r.messages.map((m) => [m[2], m[1]]));
    expect(r.rows.filter((x) => x[1] === 4).length).toBeGreaterThan(0); // board timestamps (type 4)

    // Every data packet each board sent, in order, with exact values.
    for (const [g, bytes] of [
      [1, [sent[0]!, sent[2]!]],
      [2, [sent[1]!]],
    ] as const) {
      const expected = bytes.flatMap((b) =>
        Array.from({ length: b.length / 7 }, (_, k) => fieldsOf(readWord(b, 7 * k))),
      );
      const rows = r.rows.filter((x) => x[1] === 0 && x[0].startsWith(`${g}-`));
      expect(rows.length).toBe(expected.length);
      rows.forEach((x, k) => {
        const e = expected[k]!;
        expect(x).toEqual([
          `${g}-1-${e.chipId}`,
          0,
          e.chipId,
          e.parity,
          e.validParity ? 1 : 0,
          e.channel,
          e.timestamp,
          e.adc,
          0,
          1,
        ]);
      });
    }
    const dataAdc = r.rows.filter((x) => x[1] === 0).map((x) => x[7]);
    expect(Math.max(...dataAdc)).toBeGreaterThan(255); // the 10-bit value survives
    // Strict v1.0 dtypes: u1, values above 255 saturate and are counted.
    expect(r.strict_adc_dtype).toBe("|u1");
    expect(r.strict_adc).toEqual(dataAdc.map((a) => Math.min(a, 255)));
    expect(r.strict_saturated).toBe(dataAdc.filter((a) => a > 255).length);
    // Hutch's generic file: the same packets, full ADC, and the pixel of each channel from the layout.
    expect(r.generic_adc_dtype).toBe("<u2");
    expect(r.generic.adc).toEqual(dataAdc);
    const pixel = r.generic.chip_id!.map((c, i) => CHIPS.indexOf(c) * 32 + r.generic.channel![i]!);
    expect(r.generic.pixel).toEqual(pixel);
  });
});
