// The dashboard server: fastify app (REST, binary WebSocket, /metrics, the page) built apart from `listen`.
import { fileURLToPath } from "node:url";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import websocket from "@fastify/websocket";
import { z } from "zod";
import { ErrorCode, HutchError, nowSec, toHutchError } from "../core/index.js";
import type { OperatorApi } from "../control/index.js";
import type { InprocBus } from "../transport/index.js";
import { AccessPolicy, tokenOf } from "./access.js";
import { parseBody, type ComponentInfo } from "./control-bodies.js";
import { registerControlRoutes, sendError } from "./control-routes.js";
import { ValueFeed } from "./feeds/feed.js";
import { ScanFeed } from "./feeds/scan-feed.js";
import { LiveRois, RoiRequest, type RoiNodeFactory } from "./live-rois.js";
import { renderMetrics } from "./metrics.js";
import { encodeFrame } from "./monitor-frame.js";
import { MonitorHub } from "./monitor-hub.js";
import { resolvePanels, type PanelSpec } from "./panel-schema.js";
import { serveStatic } from "./static-files.js";
import { StatusPoller } from "./status-poller.js";
import { WsSession, type FrameSocket, type SessionCounters } from "./ws-session.js";

/** The instrument file's `server:` section. */
export interface ServerSettings {
  readonly host: string;
  readonly port: number;
  readonly token?: string;
  readonly viewerToken: boolean;
  readonly maxUpdateHz: number;
}

/** What `buildServer` needs: the operator API, the bus, and pieces of the instrument file. */
export interface DashboardOptions {
  readonly core: OperatorApi;
  readonly bus: InprocBus;
  readonly instrument: string;
  readonly description?: string;
  readonly server?: Partial<ServerSettings>;
  /** The file's `panels:` section, validated here (see panel-schema.ts). */
  readonly panels?: unknown;
  /** The file's components with their params schemas (the page's prepare form is generated from them). */
  readonly components?: readonly ComponentInfo[];
  /** Directory of the built page; default `web/dist` of the package. */
  readonly webRoot?: string;
  /** A ROI node from the analysis layer; default the built-in one (live-rois.ts). */
  readonly roiNodes?: RoiNodeFactory;
  /** Problems worth a log line (a feed that threw). */
  readonly warn?: (message: string) => void;
}

/** A built dashboard: the fastify app (use `inject()` in tests), its hub, `listen()` and `close()`. */
export interface DashboardServer {
  readonly app: FastifyInstance;
  readonly hub: MonitorHub;
  readonly settings: ServerSettings;
  readonly panels: readonly PanelSpec[];
  /** Starts listening on `settings.host:port`; resolves to the page's URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

const DEFAULTS: ServerSettings = { host: "127.0.0.1", port: 8080, viewerToken: false, maxUpdateHz: 10 };
const WEB_ROOT = fileURLToPath(new URL("../../web/dist", import.meta.url));

/**
 * Builds the dashboard without listening. Throws HUTCH_ERR_CONFIG naming `panels[i].field` for a bad panel.
 * @example
 * const dash = await buildServer({ core, bus, instrument: "demo", server: cfg.server, panels: cfg.panels });
 * const res = await dash.app.inject({ method: "POST", url: "/api/run/start", payload: {} });
 * await dash.listen(); ... await dash.close();
 */
export async function buildServer(opts: DashboardOptions): Promise<DashboardServer> {
  const settings: ServerSettings = { ...DEFAULTS, ...stripUndefined(opts.server ?? {}) };
  let panels: PanelSpec[];
  try {
    panels = resolvePanels(opts.panels);
  } catch (err) {
    if (!(err instanceof z.ZodError)) throw err;
    const i = err.issues[0]!;
    const path = i.path.map((k) => (typeof k === "number" ? `[${k}]` : `.${String(k)}`)).join("");
    throw new HutchError(ErrorCode.Config, `panels${path}: ${i.message}`, { cause: err });
  }
  const access = new AccessPolicy(settings);
  const components = opts.components ?? [];
  const hub = new MonitorHub({
    bus: opts.bus,
    instrument: opts.instrument,
    ...(opts.warn ? { warn: opts.warn } : {}),
  });
  const publish = (doc: Parameters<InprocBus["publish"]>[0]) =>
    void opts.bus.publish(doc).catch(() => undefined);
  for (const p of panels) hub.addPanel(p, publish);
  const layout = new ValueFeed("$layout");
  hub.addFeed(layout);
  const setLayout = () => {
    layout.set("layout", {
      instrument: opts.instrument,
      description: opts.description ?? "",
      panels,
      maxUpdateHz: settings.maxUpdateHz,
      access: { controlNeedsToken: access.controlNeedsToken, viewNeedsToken: access.viewNeedsToken },
      rois: rois
        .list()
        .map((r) => ({ id: r.id, panel: r.panel, roi: r.roi, ...(r.label ? { label: r.label } : {}) })),
    });
    hub.changed(layout.id);
  };
  const status = new StatusPoller(opts.core, hub, opts.bus);
  const rois = new LiveRois({
    bus: opts.bus,
    core: opts.core,
    components,
    panels: () => panels,
    ...(opts.roiNodes ? { factory: opts.roiNodes } : {}),
  });
  setLayout();
  const addRoi = async (req: RoiRequest, id?: string) => {
    const r = await rois.create(req, id);
    panels = [...panels, r.panel];
    hub.addPanel(r.panel);
    setLayout();
    return r;
  };
  // Built-in ROIs recorded in the run configuration come back when the server restarts.
  try {
    const st = await opts.core.status();
    const saved = (st.config.dashboard as { rois?: unknown[] } | undefined)?.rois ?? [];
    for (const r of saved) {
      const p = RoiRequest.safeParse(stripRoi(r));
      if (p.success) await addRoi(p.data, (r as { id?: string }).id).catch(() => undefined);
    }
    for (const l of await opts.core.logs({ last: 300 })) hub.log(l);
  } catch (err) {
    opts.warn?.(`dashboard: could not read the core's state at start: ${toHutchError(err).message}`);
  }

  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const code = err.statusCode && err.statusCode < 500 ? ErrorCode.Validation : ErrorCode.Internal;
    return reply.code(err.statusCode ?? 500).send({ error: { code, message: `request: ${err.message}` } });
  });
  app.addHook("onRequest", async (req, reply) => {
    const url = req.url;
    if (!url.startsWith("/api/") && !url.startsWith("/ws") && !url.startsWith("/metrics")) return;
    const kind = req.method === "GET" || req.method === "HEAD" ? "view" : "control";
    const refused = access.check(kind, tokenOf(req.headers, req.query));
    if (refused)
      return reply.code(refused.status).send({ error: { code: refused.code, message: refused.message } });
  });

  registerControlRoutes(app, {
    core: opts.core,
    components,
    runExtras: () => rois.extras(),
  });

  app.get("/api/config", async () => {
    const st = await opts.core.status();
    return {
      instrument: opts.instrument,
      description: opts.description ?? "",
      panels,
      run: st.config,
      components: components.map((c) => ({
        name: c.name,
        type: c.type,
        params: c.params,
        schema: c.schema ? z.toJSONSchema(c.schema, { io: "input", unrepresentable: "any" }) : undefined,
      })),
      server: {
        maxUpdateHz: settings.maxUpdateHz,
        controlNeedsToken: access.controlNeedsToken,
        viewNeedsToken: access.viewNeedsToken,
      },
    };
  });
  app.get("/api/streams", async () =>
    [...hub.streamsSeen].map(([stream, fields]) => ({ stream, fields: fields ?? null })),
  );
  app.get("/api/rois", async () => rois.list());
  app.post("/api/rois", async (req, reply) => {
    try {
      const r = await addRoi(parseBody(RoiRequest, req.body, "roi"));
      return reply.code(201).send(r);
    } catch (err) {
      return sendError(reply, err);
    }
  });
  app.delete("/api/rois/:id", async (req, reply) => {
    const id = (req.params as { id: string }).id;
    if (!(await rois.remove(id)))
      return sendError(reply, new HutchError(ErrorCode.Validation, `no ROI '${id}'`)).code(404);
    panels = panels.filter((p) => p.id !== id);
    hub.removeFeed(id);
    setLayout();
    return { removed: id };
  });
  app.get("/api/panels/:id/frame", async (req, reply) => {
    const id = (req.params as { id: string }).id;
    if (!hub.feed(id)) return notFound(reply, `no panel '${id}'`);
    const f = hub.frame(id);
    return f
      ? reply.type("application/octet-stream").send(Buffer.from(f.buffer, f.byteOffset, f.byteLength))
      : reply.code(204).send();
  });
  app.get("/api/panels/:id/cells/:cell", async (req, reply) => {
    const { id, cell } = req.params as { id: string; cell: string };
    const feed = hub.feed(id);
    if (!(feed instanceof ScanFeed)) return notFound(reply, `no scan-grid panel '${id}'`);
    const detail = feed.cell(Number(cell));
    if (!detail) return notFound(reply, `panel '${id}' has no cell ${cell}`);
    const f = encodeFrame({ panel: id, kind: "cell", t: nowSec(), body: detail });
    return reply.type("application/octet-stream").send(Buffer.from(f.buffer, f.byteOffset, f.byteLength));
  });

  const counters: SessionCounters = { framesSent: 0, framesSkipped: 0 };
  const sessions = new Set<WsSession>();
  app.get("/ws", { websocket: true }, (socket) => {
    const s = new WsSession(
      socket as unknown as FrameSocket,
      hub,
      { maxUpdateHz: settings.maxUpdateHz },
      counters,
    );
    sessions.add(s);
    status.clients(sessions.size);
    (socket as unknown as FrameSocket).on("close", () => {
      sessions.delete(s);
      status.clients(sessions.size);
    });
  });
  app.get("/metrics", async (_req, reply) => {
    const text = renderMetrics(await opts.core.status(), opts.bus.stats(), {
      clients: sessions.size,
      framesSent: counters.framesSent,
      framesSkipped: counters.framesSkipped,
      framesEncoded: hub.stats.framesEncoded,
      feedErrors: hub.stats.feedErrors,
      alarmsActive: hub.alarms.active().length,
    });
    return reply.type("text/plain; version=0.0.4; charset=utf-8").send(text);
  });
  serveStatic(app, opts.webRoot ?? WEB_ROOT);
  await app.ready();

  let closed = false;
  return {
    app,
    hub,
    settings,
    get panels() {
      return panels;
    },
    listen: async () => {
      await app.listen({ host: settings.host, port: settings.port });
      const a = app.server.address();
      const port = typeof a === "object" && a ? a.port : settings.port;
      const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
      return `http://${host}:${port}/`;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      for (const s of sessions) s.close();
      status.close();
      await rois.close();
      hub.close();
      await app.close();
    },
  };
}

function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(404).send({ error: { code: ErrorCode.Validation, message } });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A recorded ROI without the keys the server adds (id, stream, source). */
function stripRoi(r: unknown): unknown {
  if (!r || typeof r !== "object") return r;
  const { id: _id, stream: _s, source: _src, ...rest } = r as Record<string, unknown>;
  return rest;
}
