// A CHEC run (simulated camera over loopback) writes the SSDAQ table /SlowSignal/readout that PyTables and h5py read.
import { afterEach, describe, expect, it } from "vitest";
import { componentTypes } from "../src/app/component-types.js";
import { loadInstrument } from "../src/app/config.js";
import { startInstrument, type Instance } from "../src/app/instance.js";
import { resultOf } from "../src/control/index.js";
import { runTargetCSim } from "../src/sim/index.js";
import { finishChecSsdaqFile } from "../src/storage/index.js";
import { checChainComponents } from "./helpers/chec-context.js";
import { runPython } from "./helpers/h5py.js";
import { tempInstrument, until } from "./helpers/instrument.js";
import { freeUdpPort } from "./helpers/ports.js";

/** Opens the file with PyTables and h5py; compares the table with the generic layout's events of the same run. */
const CHECK = String.raw`
import sys, json, tables, h5py, numpy as np
path = sys.argv[1]
out = {}
with tables.open_file(path) as f:
    t = f.root.SlowSignal.readout
    out["class"] = type(t).__name__
    out["nrows"] = int(t.nrows)
    out["NROWS"] = int(t.attrs.NROWS)
    out["coldtypes"] = {k: [str(v.base), list(v.shape)] for k, v in t.coldtypes.items()}
    out["colnames"] = list(t.colnames)
    out["ss_data_version"] = int(t.attrs.ss_data_version)
    out["pixel_map"] = [int(x) for x in t.attrs.pixel_map[:3]] + [len(t.attrs.pixel_map)]
    rows = t.read()
    data = t.col("data")
with h5py.File(path, "r") as f:
    h = f["SlowSignal/readout"][:]
    ev = f["events/data"]
    n = h.shape[0]
    same = lambda a, b: bool(np.array_equal(a, b))
    out["h5py_dtype"] = str(f["SlowSignal/readout"].dtype)
    out["events"] = int(ev["event_number"].shape[0])
    t_ev = f["events/time"][:n]
    out["iro"] = same(h["iro"], ev["event_number"][:n])
    out["time"] = same(h["time"], ev["timestamp"][:n])
    out["cpu_t"] = same(h["cpu_t"], t_ev)
    out["cpu_t_s"] = same(h["cpu_t_s"], np.floor(t_ev).astype("u8"))
    out["cpu_t_ns_max"] = int(np.max(np.abs(h["cpu_t_ns"].astype("f8") - (t_ev - np.floor(t_ev)) * 1e9)))
    out["data_h5py"] = same(h["data"], ev["data"][:n])
    out["data_tables"] = same(data, ev["data"][:n]) and same(rows["data"], h["data"])
    out["iro_tables"] = same(rows["iro"], h["iro"])
    out["finite"] = bool(np.isfinite(h["data"]).all())
print(json.dumps(out))
`;

let inst: Instance | undefined;
afterEach(async () => {
  await inst?.close();
  inst = undefined;
});

describe("CHEC SSDAQ file flavour", () => {
  it("writes /SlowSignal/readout with the 2019 columns and the run's exact values", async () => {
    const port = await freeUdpPort();
    const t = await tempInstrument({
      instrument: "chec",
      components: [
        ...checChainComponents(port),
        {
          name: "writer",
          type: "hdf5-writer",
          params: { streams: ["events"], layouts: ["generic", "chec-ssdaq"] },
        },
      ],
    });
    inst = await startInstrument(loadInstrument(t.file, componentTypes()), { quiet: true });
    await resultOf(inst.core.command("start"));
    const ac = new AbortController();
    const sim = runTargetCSim(
      { to: `127.0.0.1:${port}`, modules: 32, rateHz: 50, readoutsPerDatagram: 1 },
      { signal: ac.signal },
    );
    const status = () => inst!.core.status();
    await until(async () => {
      const b = (await status()).components.find((c) => c.name === "builder");
      return (b?.counters.events ?? 0) >= 10;
    }, "10 built events");
    ac.abort();
    await sim;
    const stopped = (await resultOf(inst.core.command("stop"))) as { files?: { path: string }[] };
    const files = stopped.files ?? [];
    expect(files.length).toBe(1);
    const path = files[0]!.path;
    // The writer gave the data column its array type when the run's files closed (before their checksums).
    expect(finishChecSsdaqFile(path)).toBe(false);

    const r = JSON.parse(await runPython(CHECK, [path])) as Record<string, unknown>;
    expect(r.class).toBe("Table");
    expect(r.colnames).toEqual(["iro", "time", "cpu_t", "cpu_t_s", "cpu_t_ns", "data"]);
    expect(r.coldtypes).toEqual({
      iro: ["uint64", []],
      time: ["uint64", []],
      cpu_t: ["float64", []],
      cpu_t_s: ["uint64", []],
      cpu_t_ns: ["uint64", []],
      data: ["float32", [32, 64]],
    });
    expect(r.nrows).toBeGreaterThanOrEqual(10);
    expect(r.NROWS).toBe(r.nrows);
    expect(r.events).toBe(r.nrows);
    expect(r.h5py_dtype).toContain("('data', '<f4', (32, 64))");
    expect(r.ss_data_version).toBe(0);
    expect(r.pixel_map).toEqual([0, 1, 2, 2048]);
    expect(r).toMatchObject({
      iro: true,
      time: true,
      cpu_t: true,
      cpu_t_s: true,
      data_h5py: true,
      data_tables: true,
      iro_tables: true,
      finite: true,
    });
    expect(r.cpu_t_ns_max).toBeLessThanOrEqual(1000); // float64 unix seconds resolve about 0.2 us
  }, 30_000);
});
