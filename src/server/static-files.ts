// Serves the built page (web/dist) with no extra dependency: files by path, index.html for every other page route.
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join, normalize, sep } from "node:path";
import type { FastifyInstance } from "fastify";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
  ".woff2": "font/woff2",
};

const MISSING = `<!doctype html><meta charset="utf-8"><title>Hutch</title>
<body style="background:#0f1318;color:#d8dee9;font:15px system-ui;padding:2em">
<h1>Hutch dashboard</h1><p>The page is not built. Run <code>npm run build</code> (it runs vite into web/dist).</p>
<p>The API works: <a style="color:#88c0d0" href="/api/status">/api/status</a>, <a style="color:#88c0d0" href="/metrics">/metrics</a>.</p>`;

/**
 * Registers GET `/*` for files under `root` (hashed assets cached for a year, index.html never cached); paths
 * outside `root` are refused; unknown paths that are not `/api/...` get index.html (the page routes itself).
 */
export function serveStatic(app: FastifyInstance, root: string): void {
  const base = normalize(root);
  app.get("/*", (req, reply) => {
    const url = decodeURIComponent((req.params as { "*": string })["*"] ?? "");
    if (url.startsWith("api/"))
      return reply
        .code(404)
        .send({ error: { code: "HUTCH_ERR_NOT_FOUND", message: `no route GET /${url}` } });
    const file = normalize(join(base, url));
    if (file !== base && !file.startsWith(base + sep)) return reply.code(403).send("outside the page");
    const target = existsSync(file) && statSync(file).isFile() ? file : join(base, "index.html");
    if (!existsSync(target)) return reply.type("text/html; charset=utf-8").send(MISSING);
    const immutable = target.includes(`${sep}assets${sep}`);
    return reply
      .type(TYPES[extname(target)] ?? "application/octet-stream")
      .header("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache")
      .send(readFileSync(target));
  });
}
