// The `online-access` component: the newest tags of named fields for operators, TypeScript and Python clients.
import { z } from "zod";
import { ErrorCode, HutchError } from "../../core/index.js";
import { defineComponent, type ActionDef } from "../../component/index.js";
import { OnlineAccess, OnlineAccessOptionsSchema, type OnlineStatus } from "./online-access.js";
import { OnlineServer } from "./online-server.js";

/** Params of the `online-access` component. */
export const OnlineAccessParamsSchema = OnlineAccessOptionsSchema.extend({
  serve: z
    .string()
    .regex(/^tcp:\/\/[^:]+:\d+$/, "expected a ZeroMQ address like tcp://127.0.0.1:5579")
    .optional()
    .describe("ROUTER address for OnlineAccessClient and examples/python/online_access.py"),
});
/** Params of the `online-access` component. */
export type OnlineAccessParams = z.infer<typeof OnlineAccessParamsSchema>;

const NewestParams = z.object({
  n: z.number().int().min(0).default(120),
  names: z.array(z.string().min(1)).default([]),
});

/**
 * Keeps the newest `history` tags (default 2000) of the named streams' scalar fields, joined by tag, from the
 * moment the process starts (across runs; the `clear` action forgets them). Answers `newest` (N tags of named
 * fields: bare names such as `i0`, `roi1`, or `stream.field`), `status` (what is held, and every active alarm or
 * silent stream in plain words) and `names`, through actions (operator API, `hutch call`) and, with `serve`,
 * over ZeroMQ for `OnlineAccessClient` and Python. Role `sink`: it is listening before any source starts.
 * @example { name: online, type: online-access, params: { serve: "tcp://127.0.0.1:5579", history: 2000,
 *   streams: [{ stream: point }, { stream: rois1 }] } }
 */
export const onlineAccessComponent = defineComponent<OnlineAccessParams>({
  type: "online-access",
  description: "bounded history of point detectors and ROI sums by tag; newest N tags and status for clients",
  role: "sink",
  params: OnlineAccessParamsSchema,
  create: async (params, ctx) => {
    const access = new OnlineAccess(ctx.bus, params);
    const server = params.serve ? await OnlineServer.open(access, params.serve, ctx.instrument) : undefined;
    if (server) ctx.log.info(`online access served at ${server.endpoint}`);
    const update = () => {
      ctx.counters.set("tags", access.history.size);
      ctx.counters.set("late", access.history.late);
      ctx.counters.set("dropped", access.dropped);
      if (server) {
        ctx.counters.set("requests", server.stats.requests);
        ctx.counters.set("request_errors", server.stats.errors);
      }
    };
    const timer = setInterval(update, 1000);
    timer.unref();
    const fixed = JSON.stringify([params.streams, params.history, params.key, params.serve]);

    const newest: ActionDef<z.infer<typeof NewestParams>, unknown> = {
      description: "the newest n tags of the named fields (JSON numbers; null where a tag has no value)",
      params: NewestParams,
      run: ({ n, names }) => {
        const r = access.newest(n, names);
        const plain = (a: Float64Array) => Array.from(a, (x) => (Number.isNaN(x) ? null : x));
        return {
          tags: Array.from(r.tags),
          values: Object.fromEntries(Object.entries(r.values).map(([k, v]) => [k, plain(v)])),
          columns: r.names,
        };
      },
    };
    const status: ActionDef<object, OnlineStatus> = {
      description: "what is held, what arrives, and every problem (missing detector, silent stream)",
      params: z.object({}),
      run: () => access.status(),
    };
    const names: ActionDef<object, string[]> = {
      description: "every field that can be asked for (stream.field)",
      params: z.object({}),
      run: () => access.names(),
    };
    const clear: ActionDef<object, { cleared: number }> = {
      description: "forget every tag held",
      params: z.object({}),
      run: () => {
        const cleared = access.history.size;
        access.history.clear();
        return { cleared };
      },
    };
    return {
      configure: (cfg) => {
        const p = cfg as OnlineAccessParams;
        if (JSON.stringify([p.streams, p.history, p.key, p.serve]) !== fixed) {
          throw new HutchError(
            ErrorCode.Config,
            `${ctx.name}: streams, history, key and serve are fixed while the process runs`,
          );
        }
      },
      start: update,
      stop: update,
      actions: {
        newest: newest as ActionDef<never>,
        status: status as ActionDef<never>,
        names: names as ActionDef<never>,
        clear: clear as ActionDef<never>,
      },
      close: async () => {
        clearInterval(timer);
        access.close();
        await server?.close();
      },
    };
  },
});
