// Run control: state, run number, elapsed time, the commands the state allows, prepare with a generated form.
import { useState } from "react";
import { api, link, useFrame } from "../connection.js";
import { count, duration } from "../format.js";
import { useElapsed } from "../use-elapsed.js";
import { STATE_CLASS, type LayoutView, type PanelOf, type StatusView } from "../types.js";
import { ConfigForm } from "./config-form.js";

const BUTTONS: { cmd: string; label: string; cls: string }[] = [
  { cmd: "start", label: "Start", cls: "go" },
  { cmd: "pause", label: "Pause", cls: "hold" },
  { cmd: "resume", label: "Resume", cls: "go" },
  { cmd: "stop", label: "Stop", cls: "halt" },
  { cmd: "abort", label: "Abort", cls: "halt" },
  { cmd: "reset", label: "Reset", cls: "" },
];

/** The run-control panel. */
export function RunControlPanel({ layout }: { panel: PanelOf<"run-control">; layout: LayoutView }) {
  const status = useFrame("$status")?.body as StatusView | undefined;
  const elapsed = useElapsed(status);
  const [busy, setBusy] = useState<string | undefined>();
  const [msg, setMsg] = useState<{ text: string; err: boolean } | undefined>();
  const [form, setForm] = useState(false);
  const [tokenInput, setTokenInput] = useState("");
  const locked = layout.access.controlNeedsToken && !link.token;
  const allowed = new Set(status?.allowed ?? []);

  const run = async (cmd: string) => {
    setBusy(cmd);
    setMsg({ text: `${cmd}…`, err: false });
    const r = await api<{
      result?: { run?: number; exitStatus?: string; state?: string };
      progress?: string[];
    }>("POST", `/api/run/${cmd}`, {});
    setBusy(undefined);
    if (r.ok) {
      const res = r.body.result ?? {};
      setMsg({
        text: `${cmd}: ${res.run !== undefined ? `run ${res.run} ` : ""}${res.exitStatus ?? res.state ?? "done"}`,
        err: false,
      });
    } else setMsg({ text: r.body.error?.message ?? `HTTP ${r.status}`, err: true });
  };

  const events = status?.run ? Object.entries(status.run.counts) : [];
  return (
    <div className="rc" data-testid="run-control">
      <div className="rc-state">
        <span className={`pill big ${status ? STATE_CLASS[status.state] : "st-stop"}`} data-testid="rc-state">
          {status?.state ?? "—"}
        </span>
        <div className="reason">
          {status?.error ? `core unreachable: ${status.error}` : (status?.reason ?? "")}
        </div>
      </div>
      <div className="rc-facts">
        <div className="kv">
          <small>Run</small>
          <b className="num" data-testid="rc-run">
            {status?.run?.number ?? "—"}
          </b>
        </div>
        <div className="kv">
          <small>Elapsed</small>
          <b className="num" data-testid="rc-elapsed">
            {elapsed === undefined ? "—" : duration(elapsed)}
          </b>
        </div>
        <div className="kv">
          <small>Plan</small>
          <b>{typeof status?.config.plan === "string" ? status.config.plan : "—"}</b>
        </div>
      </div>
      <div
        className="counters num"
        style={{ fontSize: 12, minHeight: 16 }}
        title={events.map(([s, n]) => `${s} ${n}`).join("\n")}
      >
        {events.map(([s, n]) => (
          <span key={s} style={{ marginRight: 12 }}>
            {s} <b>{count(n)}</b>
          </span>
        ))}
      </div>
      {locked ? (
        <div className="token">
          <input
            className="inp"
            type="password"
            placeholder="control token"
            value={tokenInput}
            onChange={(e) => setTokenInput(e.target.value)}
          />
          <button
            className="btn"
            onClick={() => {
              link.token = tokenInput;
              link.reconnect();
              setTokenInput("");
            }}
          >
            Unlock control
          </button>
        </div>
      ) : (
        <div className="rc-buttons">
          <button
            className="btn arm"
            disabled={!!busy || !allowed.has("prepare")}
            onClick={() => setForm(true)}
            data-testid="cmd-prepare"
          >
            Prepare…
          </button>
          {BUTTONS.map((b) => (
            <button
              key={b.cmd}
              className={`btn ${b.cls}`}
              disabled={!!busy || !allowed.has(b.cmd)}
              onClick={() => void run(b.cmd)}
              data-testid={`cmd-${b.cmd}`}
            >
              {b.label}
            </button>
          ))}
        </div>
      )}
      <div className={`rc-msg ${msg?.err ? "err" : ""}`} data-testid="rc-msg">
        {msg?.text}
      </div>
      {form && (
        <ConfigForm
          onDone={(text, err) => {
            setForm(false);
            if (text) setMsg({ text, err });
          }}
        />
      )}
    </div>
  );
}
