// uPlot on the dark theme: axes, palette, and a host that (re)creates a chart when its series change and follows resizes.
import { useEffect, useRef, type RefObject } from "react";
import uPlot from "uplot";

/** Series colours, in order. */
export const PALETTE = [
  "#58a6ff",
  "#3fb950",
  "#d29922",
  "#bc8cff",
  "#ff7b72",
  "#39c5cf",
  "#e3b341",
  "#f778ba",
];

const AXIS: uPlot.Axis = {
  stroke: "#8b949e",
  grid: { stroke: "#232a33", width: 1 },
  ticks: { stroke: "#2a323d", width: 1, size: 4 },
  font: "11px Inter, system-ui, sans-serif",
  labelFont: "11px Inter, system-ui, sans-serif",
};

const pad = (n: number) => String(n).padStart(2, "0");
/** Clock labels (HH:MM:SS, or HH:MM on whole minutes) on one line, so time axes never overlap. */
const timeValues = (_u: uPlot, ticks: number[]) =>
  ticks.map((t) => {
    const d = new Date(t * 1000);
    const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    return d.getSeconds() === 0 && t % 60 === 0 ? hm : `${hm}:${pad(d.getSeconds())}`;
  });

/** Tick steps of time axes in seconds: never below a second, so labels never repeat. */
const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];

const compact = new Intl.NumberFormat("en", { notation: "compact", maximumSignificantDigits: 4 });
const plain = new Intl.NumberFormat("en", { maximumSignificantDigits: 6 });
/** y labels: compact (1.25M, 350k) from 10^4 on, unless that would make two ticks read the same. */
const yValues = (_u: uPlot, ticks: number[]) => {
  const big = ticks.some((t) => Math.abs(t) >= 1e4);
  const short = big ? ticks.map((t) => compact.format(t)) : [];
  if (big && new Set(short).size === ticks.length) return short;
  return ticks.map((t) => plain.format(t));
};
/** Width of the y axis from its longest label (about 6.5 px per character at 11 px), so labels are never cut. */
const ySize = (u: uPlot, values: string[] | null, axis: number) => {
  const longest = Math.max(3, ...(values ?? []).map((v) => v.length));
  const label = u.axes[axis]?.label ? 16 : 0;
  return Math.ceil(longest * 6.5) + 14 + label;
};

/** x and y axes; `time` formats x as clock time. */
export function axes(opts: { xLabel?: string; yLabel?: string; time?: boolean } = {}): uPlot.Axis[] {
  return [
    {
      ...AXIS,
      ...(opts.xLabel ? { label: opts.xLabel, labelSize: 16 } : {}),
      ...(opts.time ? { values: timeValues, space: 70, incrs: TIME_INCRS } : { space: 60 }),
    },
    { ...AXIS, values: yValues, size: ySize, ...(opts.yLabel ? { label: opts.yLabel, labelSize: 16 } : {}) },
  ];
}

/** Chart options without the size (the host sets it from the container). */
export type PlotOptions = Omit<uPlot.Options, "width" | "height">;

/** Height taken by the legend row under a chart (px). */
export const LEGEND_PX = 26;

/**
 * Holds one uPlot in a container: `update(key, data)` creates the chart on first use and again whenever `key`
 * (the series layout) changes, otherwise only sets data. Follows the container's width.
 */
export class PlotHost {
  u: uPlot | undefined;
  private key = "";
  private readonly ro: ResizeObserver;

  constructor(
    private readonly el: HTMLElement,
    private readonly heightPx: number,
    private readonly legend: boolean,
  ) {
    this.ro = new ResizeObserver(() => this.u?.setSize(this.size()));
    this.ro.observe(el);
  }

  private size(): { width: number; height: number } {
    return {
      width: Math.max(100, this.el.clientWidth),
      height: this.heightPx - (this.legend ? LEGEND_PX : 0),
    };
  }

  /** Draws `data`; `make` builds the options when the chart must be (re)created. */
  update(key: string, make: () => PlotOptions, data: uPlot.AlignedData): void {
    if (!this.u || key !== this.key) {
      this.u?.destroy();
      this.key = key;
      this.u = new uPlot(
        { ...make(), ...this.size(), legend: { show: this.legend, live: true } },
        data,
        this.el,
      );
      return;
    }
    this.u.setData(data);
  }

  destroy(): void {
    this.ro.disconnect();
    this.u?.destroy();
    this.u = undefined;
  }
}

/** A PlotHost bound to a div for the lifetime of a component. */
export function usePlotHost(
  heightPx: number,
  legend = true,
): [RefObject<HTMLDivElement | null>, RefObject<PlotHost | undefined>] {
  const ref = useRef<HTMLDivElement | null>(null);
  const host = useRef<PlotHost | undefined>(undefined);
  useEffect(() => {
    host.current = new PlotHost(ref.current!, heightPx, legend);
    return () => {
      host.current?.destroy();
      host.current = undefined;
    };
  }, [heightPx, legend]);
  return [ref, host];
}
