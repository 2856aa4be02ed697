// The prepare form, generated from each component's params JSON Schema (numbers, integers, booleans, strings, enums).
import { useEffect, useState } from "react";
import { api } from "../connection.js";

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
}

interface ConfigView {
  run: Record<string, unknown>;
  components: { name: string; type: string; params: Record<string, unknown>; schema?: JsonSchema }[];
}

type Values = Record<string, Record<string, string | boolean>>;

const kindOf = (s: JsonSchema): "number" | "integer" | "boolean" | "string" | "enum" | undefined => {
  if (s.enum) return "enum";
  const t = Array.isArray(s.type) ? s.type[0] : s.type;
  return t === "number" || t === "integer" || t === "boolean" || t === "string" ? t : undefined;
};

/** Converts the form's strings back to the schema's types. */
function parse(s: JsonSchema, v: string | boolean): unknown {
  const k = kindOf(s);
  if (k === "boolean") return Boolean(v);
  if (k === "number" || k === "integer") return v === "" ? undefined : Number(v);
  return v;
}

/**
 * Lists every scalar param of every component with its current value (file value, then the run's override);
 * on submit sends only what changed: `prepare {plan, components: {name: {param: value}}}`.
 */
export function ConfigForm({ onDone }: { onDone: (msg: string, err: boolean) => void }) {
  const [cfg, setCfg] = useState<ConfigView | undefined>();
  const [values, setValues] = useState<Values>({});
  const [plan, setPlan] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    void api<ConfigView>("GET", "/api/config").then((r) => {
      if (!r.ok) return onDone(r.body.error?.message ?? `HTTP ${r.status}`, true);
      setCfg(r.body);
      setPlan(typeof r.body.run.plan === "string" ? r.body.run.plan : "");
      const overrides = (r.body.run.components ?? {}) as Record<string, Record<string, unknown>>;
      const v: Values = {};
      for (const c of r.body.components) {
        v[c.name] = {};
        for (const [k, s] of Object.entries(c.schema?.properties ?? {})) {
          const cur = overrides[c.name]?.[k] ?? c.params[k] ?? s.default;
          if (kindOf(s))
            v[c.name]![k] = kindOf(s) === "boolean" ? Boolean(cur) : cur === undefined ? "" : String(cur);
        }
      }
      setValues(v);
    });
  }, []);

  const submit = async () => {
    if (!cfg) return;
    const components: Record<string, Record<string, unknown>> = {};
    for (const c of cfg.components) {
      for (const [k, s] of Object.entries(c.schema?.properties ?? {})) {
        const v = values[c.name]?.[k];
        if (v === undefined) continue;
        const typed = parse(s, v);
        const base =
          ((cfg.run.components ?? {}) as Record<string, Record<string, unknown>>)[c.name]?.[k] ??
          c.params[k] ??
          s.default;
        if (typed !== undefined && typed !== base) (components[c.name] ??= {})[k] = typed;
      }
    }
    setBusy(true);
    const r = await api<{ result: unknown }>("POST", "/api/run/prepare", {
      ...(plan ? { plan } : {}),
      components,
    });
    setBusy(false);
    onDone(r.ok ? "prepared: READY" : (r.body.error?.message ?? `HTTP ${r.status}`), !r.ok);
  };

  if (!cfg) return <div className="form">loading the configuration…</div>;
  return (
    <div className="form" data-testid="config-form">
      <label>
        <span>plan</span>
        <input className="inp" value={plan} onChange={(e) => setPlan(e.target.value)} />
      </label>
      {cfg.components.map((c) => (
        <div key={c.name}>
          <h3>
            {c.name} <small style={{ color: "var(--muted)" }}>({c.type})</small>
          </h3>
          {Object.entries(c.schema?.properties ?? {}).map(([k, s]) => {
            const kind = kindOf(s);
            if (!kind) return null;
            const v = values[c.name]?.[k];
            const set = (x: string | boolean) =>
              setValues({ ...values, [c.name]: { ...values[c.name], [k]: x } });
            return (
              <label key={k} title={s.description ?? k}>
                <span>{k}</span>
                {kind === "boolean" ? (
                  <input type="checkbox" checked={Boolean(v)} onChange={(e) => set(e.target.checked)} />
                ) : kind === "enum" ? (
                  <select className="sel" value={String(v)} onChange={(e) => set(e.target.value)}>
                    {s.enum!.map((o) => (
                      <option key={String(o)}>{String(o)}</option>
                    ))}
                  </select>
                ) : (
                  <input
                    className="inp num"
                    name={`${c.name}.${k}`}
                    type={kind === "string" ? "text" : "number"}
                    step={kind === "integer" ? 1 : "any"}
                    min={s.minimum ?? s.exclusiveMinimum}
                    max={s.maximum}
                    value={String(v ?? "")}
                    onChange={(e) => set(e.target.value)}
                  />
                )}
              </label>
            );
          })}
        </div>
      ))}
      <div className="row">
        <button className="btn arm" disabled={busy} onClick={() => void submit()} data-testid="form-prepare">
          Prepare with these
        </button>
        <button className="btn" onClick={() => onDone("", false)}>
          Cancel
        </button>
      </div>
    </div>
  );
}
