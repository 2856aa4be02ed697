// Image panel: canvas with colour map, lin/log, zoom (wheel) and pan (drag), pixel readout, ROI drawing (rect, polygon).
import { useEffect, useRef, useState } from "react";
import { api, link, notePaint } from "../connection.js";
import { cssOf, lut, paint } from "../colormap.js";
import { num } from "../format.js";
import type { FrameNd, LayoutView, PanelOf, RoiShape } from "../types.js";

type Mode = "pan" | "rect" | "poly";
interface View {
  s: number;
  ox: number;
  oy: number;
}
interface ImageBody {
  frame: FrameNd;
  seq: number;
  min: number;
  max: number;
}

const COLORMAPS = ["viridis", "magma", "inferno", "gray"] as const;

/** The image panel. ROIs drawn here are POSTed to /api/rois and come back in the layout as overlays. */
export function ImagePanel({ panel, layout }: { panel: PanelOf<"image">; layout: LayoutView }) {
  const wrap = useRef<HTMLDivElement | null>(null);
  const canvas = useRef<HTMLCanvasElement | null>(null);
  const off = useRef<HTMLCanvasElement>(document.createElement("canvas"));
  const frame = useRef<ImageBody | undefined>(undefined);
  const view = useRef<View | undefined>(undefined);
  const drag = useRef<{ x: number; y: number; ox: number; oy: number } | undefined>(undefined);
  const draft = useRef<{
    rect?: [number, number, number, number];
    poly?: [number, number][];
    hover?: [number, number];
  }>({});
  const [mode, setMode] = useState<Mode>("pan");
  const [cmap, setCmap] = useState<string>(panel.colormap);
  const [log, setLog] = useState(panel.scale === "log");
  const [readout, setReadout] = useState("");
  const [range, setRange] = useState<[number, number] | undefined>();
  const [msg, setMsg] = useState<{ text: string; err: boolean } | undefined>();
  const opts = useRef({ cmap, log });
  opts.current = { cmap, log };
  const rois = (layout.rois ?? []).filter((r) => r.panel === panel.id);
  const roisRef = useRef(rois);
  roisRef.current = rois;

  const fit = () => {
    const f = frame.current;
    const c = canvas.current;
    if (!f || !c) return;
    const [h, w] = f.frame.shape as [number, number];
    const W = c.clientWidth;
    const H = c.clientHeight;
    const s = Math.min(W / w, H / h) * 0.98;
    view.current = { s, ox: (W - w * s) / 2, oy: (H - h * s) / 2 };
  };

  /** Paints the current frame into the offscreen canvas (once per frame or colour change). */
  const render = () => {
    const f = frame.current;
    if (!f) return;
    const [h, w] = f.frame.shape as [number, number];
    const o = off.current;
    if (o.width !== w || o.height !== h) {
      o.width = w;
      o.height = h;
      view.current = undefined;
    }
    const ctx = o.getContext("2d")!;
    const img = ctx.createImageData(w, h);
    paint(
      f.frame.data,
      new Uint32Array(img.data.buffer),
      lut(opts.current.cmap),
      f.min,
      f.max,
      opts.current.log,
    );
    ctx.putImageData(img, 0, 0);
  };

  /** Draws the offscreen image through the view transform, plus ROIs and the ROI being drawn. */
  const draw = () => {
    const c = canvas.current;
    if (!c) return;
    const dpr = devicePixelRatio;
    const W = c.clientWidth;
    const H = c.clientHeight;
    if (c.width !== Math.round(W * dpr) || c.height !== Math.round(H * dpr)) {
      c.width = Math.round(W * dpr);
      c.height = Math.round(H * dpr);
    }
    const ctx = c.getContext("2d")!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#0b0f14";
    ctx.fillRect(0, 0, W, H);
    if (!frame.current) return;
    if (!view.current) fit();
    const v = view.current!;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off.current, v.ox, v.oy, off.current.width * v.s, off.current.height * v.s);
    const P = (x: number, y: number): [number, number] => [v.ox + x * v.s, v.oy + y * v.s];
    ctx.lineWidth = 1.5;
    ctx.font = "11px Inter, system-ui, sans-serif";
    for (const r of roisRef.current) {
      ctx.strokeStyle = "#39c5cf";
      ctx.fillStyle = "#39c5cf";
      const pts = shapePoints(r.roi);
      ctx.beginPath();
      pts.forEach(([x, y], i) => (i ? ctx.lineTo(...P(x, y)) : ctx.moveTo(...P(x, y))));
      ctx.closePath();
      ctx.stroke();
      const [lx, ly] = P(pts[0]![0], pts[0]![1]);
      ctx.fillText(r.label ?? r.id, lx + 3, ly - 4);
    }
    const d = draft.current;
    ctx.strokeStyle = "#ffdf5d";
    ctx.setLineDash([4, 3]);
    if (d.rect) {
      const [x0, y0, x1, y1] = d.rect;
      const [a, b] = P(Math.min(x0, x1), Math.min(y0, y1));
      ctx.strokeRect(a, b, Math.abs(x1 - x0) * v.s, Math.abs(y1 - y0) * v.s);
    }
    if (d.poly?.length) {
      ctx.beginPath();
      d.poly.forEach(([x, y], i) => (i ? ctx.lineTo(...P(x, y)) : ctx.moveTo(...P(x, y))));
      if (d.hover) ctx.lineTo(...P(...d.hover));
      ctx.stroke();
    }
    ctx.setLineDash([]);
  };

  useEffect(
    () =>
      link.subscribe(panel.id, (f) => {
        frame.current = f.body as ImageBody;
        render();
        draw();
        setRange([frame.current.min, frame.current.max]);
        notePaint(f);
      }),
    [panel.id],
  );
  useEffect(() => {
    render();
    draw();
  }, [cmap, log]);
  useEffect(draw, [rois.length]);
  useEffect(() => {
    const ro = new ResizeObserver(() => {
      view.current = undefined;
      draw();
    });
    ro.observe(wrap.current!);
    return () => ro.disconnect();
  }, []);

  /** Canvas position -> image coordinates (fractional pixels). */
  const toImage = (e: { clientX: number; clientY: number }): [number, number] => {
    const r = canvas.current!.getBoundingClientRect();
    const v = view.current ?? { s: 1, ox: 0, oy: 0 };
    return [(e.clientX - r.left - v.ox) / v.s, (e.clientY - r.top - v.oy) / v.s];
  };

  const submit = async (roi: RoiShape) => {
    setMsg({ text: "creating ROI…", err: false });
    const res = await api<{ roi: { id: string } }>("POST", "/api/rois", { panel: panel.id, roi });
    setMsg(
      res.ok
        ? { text: `ROI ${res.body.roi.id} running`, err: false }
        : { text: res.body.error?.message ?? `HTTP ${res.status}`, err: true },
    );
    setTimeout(() => setMsg(undefined), 4000);
  };

  const onWheel = (e: React.WheelEvent) => {
    if (!view.current) return;
    const r = canvas.current!.getBoundingClientRect();
    const mx = e.clientX - r.left;
    const my = e.clientY - r.top;
    const k = e.deltaY < 0 ? 1.2 : 1 / 1.2;
    const v = view.current;
    view.current = { s: v.s * k, ox: mx - (mx - v.ox) * k, oy: my - (my - v.oy) * k };
    draw();
  };

  const onDown = (e: React.MouseEvent) => {
    if (e.button !== 0 || !frame.current) return;
    const [x, y] = toImage(e);
    if (mode === "pan")
      drag.current = { x: e.clientX, y: e.clientY, ox: view.current?.ox ?? 0, oy: view.current?.oy ?? 0 };
    else if (mode === "rect")
      draft.current = { rect: [Math.round(x), Math.round(y), Math.round(x), Math.round(y)] };
    else {
      const poly = draft.current.poly ?? [];
      const first = poly[0];
      if (first && poly.length >= 3 && Math.hypot(first[0] - x, first[1] - y) * (view.current?.s ?? 1) < 8) {
        draft.current = {};
        void submit({ kind: "polygon", points: poly });
      } else draft.current = { poly: [...poly, [x, y]] };
    }
    draw();
  };

  const onMove = (e: React.MouseEvent) => {
    const f = frame.current;
    const [x, y] = toImage(e);
    if (drag.current && view.current && mode === "pan") {
      view.current = {
        ...view.current,
        ox: drag.current.ox + e.clientX - drag.current.x,
        oy: drag.current.oy + e.clientY - drag.current.y,
      };
      draw();
    } else if (draft.current.rect && e.buttons & 1) {
      draft.current.rect[2] = Math.round(x);
      draft.current.rect[3] = Math.round(y);
      draw();
    } else if (draft.current.poly) {
      draft.current.hover = [x, y];
      draw();
    }
    if (!f) return;
    const [h, w] = f.frame.shape as [number, number];
    const px = Math.floor(x);
    const py = Math.floor(y);
    setReadout(
      px >= 0 && py >= 0 && px < w && py < h
        ? `x ${px}  y ${py}  value ${num(f.frame.data[py * w + px]!)}`
        : "",
    );
  };

  const onUp = () => {
    drag.current = undefined;
    const r = draft.current.rect;
    if (r) {
      draft.current = {};
      draw();
      const [x0, x1] = [Math.min(r[0], r[2]), Math.max(r[0], r[2])];
      const [y0, y1] = [Math.min(r[1], r[3]), Math.max(r[1], r[3])];
      if (x1 - x0 >= 1 && y1 - y0 >= 1) void submit({ kind: "rect", x0, y0, x1, y1 });
    }
  };

  const onDouble = () => {
    const poly = draft.current.poly;
    if (mode === "poly" && poly && poly.length >= 3) {
      draft.current = {};
      draw();
      void submit({ kind: "polygon", points: poly });
    }
  };

  const table = lut(cmap);
  const gradient = `linear-gradient(to top, ${[0, 64, 128, 192, 255].map((i) => cssOf(table, i)).join(",")})`;
  return (
    <div className="canvas-wrap" ref={wrap}>
      <canvas
        ref={canvas}
        data-testid="image-canvas"
        style={{ cursor: mode === "pan" ? "grab" : "crosshair" }}
        onWheel={onWheel}
        onMouseDown={onDown}
        onMouseMove={onMove}
        onMouseUp={onUp}
        onMouseLeave={() => {
          drag.current = undefined;
          setReadout("");
        }}
        onDoubleClick={onDouble}
      />
      <div className="toolbar">
        <button
          className={`btn sm ${mode === "pan" ? "on" : ""}`}
          title="pan (drag) and zoom (wheel)"
          onClick={() => setMode("pan")}
        >
          ✥
        </button>
        {panel.roi && (
          <>
            <button
              className={`btn sm ${mode === "rect" ? "on" : ""}`}
              title="draw a rectangle ROI"
              data-testid="roi-rect"
              onClick={() => setMode("rect")}
            >
              ▭ ROI
            </button>
            <button
              className={`btn sm ${mode === "poly" ? "on" : ""}`}
              title="draw a polygon ROI: click the corners, double-click (or click the first corner) to close"
              onClick={() => {
                draft.current = {};
                setMode("poly");
              }}
            >
              ⬠
            </button>
          </>
        )}
        <select className="sel" value={cmap} onChange={(e) => setCmap(e.target.value)} title="colour map">
          {COLORMAPS.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
        <button
          className={`btn sm ${log ? "on" : ""}`}
          title="logarithmic colour scale"
          onClick={() => setLog(!log)}
        >
          log
        </button>
        <button
          className="btn sm"
          title="fit the image to the panel"
          onClick={() => {
            view.current = undefined;
            draw();
          }}
        >
          fit
        </button>
      </div>
      {!range && <div className="empty">no frame yet</div>}
      {range && (
        <>
          <div className="cbar" style={{ background: gradient }} />
          <div className="cbar-labels num">
            <span>{num(range[1], 3)}</span>
            <span>{num(range[0], 3)}</span>
          </div>
        </>
      )}
      <div
        className="readout num"
        style={{
          visibility: readout || msg ? "visible" : "hidden",
          color: msg?.err ? "var(--error)" : undefined,
        }}
      >
        {msg?.text ?? readout}
      </div>
    </div>
  );
}

/** Outline points of a ROI shape in pixel coordinates. */
function shapePoints(r: RoiShape): [number, number][] {
  if (r.kind === "polygon") return r.points;
  return [
    [r.x0, r.y0],
    [r.x1, r.y0],
    [r.x1, r.y1],
    [r.x0, r.y1],
  ];
}
