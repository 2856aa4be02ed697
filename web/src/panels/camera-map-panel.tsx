// Camera map: modules x pixels laid out as on the detector (e.g. 32 modules of 8x8), colour-coded, with readout.
import { useEffect, useRef, useState } from "react";
import { link, notePaint } from "../connection.js";
import { cssOf, lut, scaler } from "../colormap.js";
import { num } from "../format.js";
import type { FrameNd, PanelOf } from "../types.js";

interface Geometry {
  cell: number;
  x0: number;
  y0: number;
  gap: number;
  pos: [number, number][];
}

/** Module positions: the file's; for 32 modules a 6 x 6 grid without its corners (as CHEC-S); else a square-ish grid. */
function positions(panel: PanelOf<"camera-map">): [number, number][] {
  if (panel.positions?.length) return panel.positions as [number, number][];
  if (panel.modules === 32) {
    const out: [number, number][] = [];
    for (let y = 0; y < 6; y++)
      for (let x = 0; x < 6; x++) if (!((x === 0 || x === 5) && (y === 0 || y === 5))) out.push([x, y]);
    return out;
  }
  const cols = Math.ceil(Math.sqrt(panel.modules));
  return Array.from(
    { length: panel.modules },
    (_, m) => [m % cols, Math.floor(m / cols)] as [number, number],
  );
}

/** Draws the newest frame of the field as the camera; hovering shows module, pixel and value. */
export function CameraMapPanel({ panel }: { panel: PanelOf<"camera-map"> }) {
  const canvas = useRef<HTMLCanvasElement | null>(null);
  const values = useRef<ArrayLike<number> | undefined>(undefined);
  const geo = useRef<Geometry | undefined>(undefined);
  const [range, setRange] = useState<[number, number] | undefined>();
  const [readout, setReadout] = useState("");
  const [mc, mr] = panel.modulePixels;

  const draw = () => {
    const c = canvas.current;
    const v = values.current;
    if (!c) return;
    const dpr = devicePixelRatio;
    const W = c.clientWidth;
    const H = c.clientHeight;
    c.width = Math.round(W * dpr);
    c.height = Math.round(H * dpr);
    const ctx = c.getContext("2d")!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    if (!v) return;
    const pos = positions(panel);
    const gx = Math.max(...pos.map((p) => p[0])) + 1;
    const gy = Math.max(...pos.map((p) => p[1])) + 1;
    const gap = 3;
    const cell = Math.max(
      1,
      Math.floor(Math.min((W - 60 - gap * gx) / (gx * mc), (H - 12 - gap * gy) / (gy * mr))),
    );
    const x0 = Math.floor((W - 40 - gx * (mc * cell + gap)) / 2);
    const y0 = Math.floor((H - gy * (mr * cell + gap)) / 2);
    geo.current = { cell, x0, y0, gap, pos };
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    const s = scaler(lo, hi, false);
    const table = lut(panel.colormap);
    const per = mc * mr;
    for (let m = 0; m < panel.modules; m++) {
      const [px, py] = pos[m] ?? [0, 0];
      const bx = x0 + px * (mc * cell + gap);
      const by = y0 + py * (mr * cell + gap);
      for (let p = 0; p < per; p++) {
        const val = v[m * per + p];
        ctx.fillStyle = val === undefined || !Number.isFinite(val) ? "#202020" : cssOf(table, s(val));
        ctx.fillRect(bx + (p % mc) * cell, by + Math.floor(p / mc) * cell, cell, cell);
      }
    }
    setRange([lo, hi]);
  };

  useEffect(
    () =>
      link.subscribe(panel.id, (f) => {
        values.current = (f.body as { frame: FrameNd }).frame.data;
        draw();
        notePaint(f);
      }),
    [panel.id],
  );
  useEffect(() => {
    const ro = new ResizeObserver(draw);
    ro.observe(canvas.current!);
    return () => ro.disconnect();
  }, []);

  const onMove = (e: React.MouseEvent) => {
    const g = geo.current;
    const v = values.current;
    if (!g || !v) return;
    const r = canvas.current!.getBoundingClientRect();
    const x = e.clientX - r.left;
    const y = e.clientY - r.top;
    for (let m = 0; m < g.pos.length; m++) {
      const [px, py] = g.pos[m]!;
      const bx = g.x0 + px * (mc * g.cell + g.gap);
      const by = g.y0 + py * (mr * g.cell + g.gap);
      if (x >= bx && y >= by && x < bx + mc * g.cell && y < by + mr * g.cell) {
        const p = Math.floor((y - by) / g.cell) * mc + Math.floor((x - bx) / g.cell);
        setReadout(
          `module ${m}  pixel ${p}  ${num(v[m * mc * mr + p]!)}${panel.units ? ` ${panel.units}` : ""}`,
        );
        return;
      }
    }
    setReadout("");
  };

  const table = lut(panel.colormap);
  return (
    <div className="canvas-wrap">
      <canvas ref={canvas} onMouseMove={onMove} onMouseLeave={() => setReadout("")} />
      {!range && <div className="empty">no frame yet</div>}
      {range && (
        <>
          <div
            className="cbar"
            style={{
              background: `linear-gradient(to top, ${[0, 64, 128, 192, 255].map((i) => cssOf(table, i)).join(",")})`,
            }}
          />
          <div className="cbar-labels num">
            <span>{num(range[1], 3)}</span>
            <span>{num(range[0], 3)}</span>
          </div>
        </>
      )}
      <div className="readout num" style={{ visibility: readout ? "visible" : "hidden" }}>
        {readout}
      </div>
    </div>
  );
}
