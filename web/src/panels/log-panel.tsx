// Log viewer: the newest lines of every component, filtered by level, following the end unless scrolled up.
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { useFrame } from "../connection.js";
import { clock } from "../format.js";
import type { PanelOf } from "../types.js";

const LEVELS = ["debug", "info", "warn", "error"] as const;

interface LogBody {
  seq: number;
  lines: { t: number; level: (typeof LEVELS)[number]; component: string; message: string }[];
}

/** The log panel; the level filter sits in the top right corner. */
export function LogPanel({ panel }: { panel: PanelOf<"logs"> }) {
  const body = useFrame(panel.id)?.body as LogBody | undefined;
  const [level, setLevel] = useState<string>(panel.level);
  const box = useRef<HTMLDivElement | null>(null);
  const follow = useRef(true);
  const min = LEVELS.indexOf(level as (typeof LEVELS)[number]);
  const lines = (body?.lines ?? []).filter((l) => LEVELS.indexOf(l.level) >= min);
  useLayoutEffect(() => {
    if (follow.current && box.current) box.current.scrollTop = box.current.scrollHeight;
  });
  useEffect(() => {
    const el = box.current!;
    const onScroll = () => (follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8);
    el.addEventListener("scroll", onScroll);
    return () => el.removeEventListener("scroll", onScroll);
  }, []);
  return (
    <>
      <div className="subbar">
        <span className="num">
          {lines.length} of {body?.lines.length ?? 0} lines
        </span>
        <select
          style={{ marginLeft: "auto" }}
          className="sel"
          value={level}
          onChange={(e) => setLevel(e.target.value)}
          data-testid="log-level"
          title="lowest level shown"
        >
          {LEVELS.map((l) => (
            <option key={l} value={l}>
              {l}+
            </option>
          ))}
        </select>
      </div>
      <div className="log mono" ref={box} data-testid="log-lines">
        {lines.map((l, i) => (
          <div key={`${body?.seq}-${i}`} className={`lv-${l.level}`}>
            <span className="t">{clock(l.t)}</span>
            <span className="c">{l.component}</span>
            {l.message}
          </div>
        ))}
        {!lines.length && <div className="empty">no log lines at this level</div>}
      </div>
    </>
  );
}
