#!/usr/bin/python3
"""Online access to a Hutch beamline from Python (replaces SACLA's onlineAccess.py grabber; see docs/beamline.md).

usage: online_access.py ADDRESS [--newest N] [--names i0,roi1] [--status] [--list] [--json] [--timeout S]
                                [--every S] [--count K]

  ADDRESS     the `serve` address of an `online-access` component, e.g. tcp://127.0.0.1:5579
  --newest N  the newest N tags (default 120) of --names (bare field names such as i0, roi1, or stream.field)
  --status    what the server holds and every problem it knows of (a detector missing, a silent stream)
  --list      every name that can be asked for
  --json      print JSON (NaN as null) instead of a table
  --every S   repeat every S seconds (a live grabber), --count K times (default: until Ctrl-C)

As a library:

    from online_access import OnlineAccess
    with OnlineAccess("tcp://127.0.0.1:5579") as oa:
        d = oa.newest(120, ["i0", "roi1"])   # {"tag": int64[n], "i0": float64[n], "roi1": float64[n]}
        oa.status()["problems"]              # [] when all is well

Every call ends: with the answer, an OnlineError carrying the server's code (HUTCH_ERR_VALIDATION for an unknown
name), or an OnlineError with code HUTCH_ERR_TIMEOUT after `timeout` seconds. A late answer to a call that timed
out is recognised by its id and dropped. Needs pyzmq, msgpack and numpy (/usr/bin/python3 on Debian).
"""

import argparse
import json
import math
import os
import sys
import time

import msgpack
import numpy as np
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from listen import decode  # noqa: E402  (same folder: the reply is framed as docs/wire.md says)


class OnlineError(Exception):
    """An error answer from the server, or a timeout; `code` is a HUTCH_ERR_* code."""

    def __init__(self, code, message):
        super().__init__(f"{message} [{code}]")
        self.code = code


class OnlineAccess:
    """The newest tags of named point detectors and ROI sums, from an `online-access` component."""

    def __init__(self, address, timeout=5.0):
        self.address = address
        self.timeout = timeout
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.DEALER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.connect(address)
        self._id = 0

    def _call(self, request):
        self._id += 1
        request = dict(request, id=self._id)
        self._sock.send_multipart([b"", msgpack.packb(request)])
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self._sock.poll(int(left * 1000)):
                raise OnlineError(
                    "HUTCH_ERR_TIMEOUT",
                    f"online access {self.address}: no answer to '{request['op']}' within {self.timeout} s",
                )
            frames = self._sock.recv_multipart(copy=False)
            if frames and frames[0].buffer.nbytes == 0:
                frames = frames[1:]
            _, _, reply = decode(frames)
            if reply.get("id") != self._id:
                continue  # a late answer to an earlier call
            if not reply.get("ok"):
                err = reply.get("error", {})
                raise OnlineError(err.get("code", "HUTCH_ERR_INTERNAL"), err.get("message", "error"))
            return reply["result"]

    def newest(self, n=120, names=()):
        """{"tag": int64[n], name: float64[n] for each name}, oldest tag first; NaN where a tag has no value."""
        r = self._call({"op": "newest", "n": int(n), "names": list(names)})
        out = {"tag": r["tags"].astype(np.int64)}
        for name in names:
            out[name] = r["values"][name]
        return out

    def status(self):
        """What the server holds and every problem it knows of (`ok` is False while `problems` is not empty)."""
        return self._call({"op": "status"})

    def names(self):
        """Every name that can be asked for (stream.field)."""
        return self._call({"op": "names"})

    def close(self):
        self._sock.close(0)
        self._ctx.term()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _plain(v):
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _table(d, names):
    lines = ["tag".rjust(12) + "".join(n.rjust(16) for n in names)]
    for i, tag in enumerate(d["tag"]):
        lines.append(str(int(tag)).rjust(12) + "".join(f"{d[n][i]:16.6g}" for n in names))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Newest tags of a Hutch beamline's point detectors and ROI sums.")
    ap.add_argument("address")
    ap.add_argument("--newest", type=int, default=120)
    ap.add_argument("--names", default="", help="comma-separated names, e.g. i0,roi1")
    ap.add_argument("--status", action="store_true")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--every", type=float, default=0.0)
    ap.add_argument("--count", type=int, default=0)
    args = ap.parse_args(argv)
    names = [n for n in args.names.split(",") if n]
    done = 0
    with OnlineAccess(args.address, args.timeout) as oa:
        try:
            while True:
                if args.status:
                    s = oa.status()
                    print(json.dumps(_plain(s)) if args.json else json.dumps(_plain(s), indent=2), flush=True)
                elif args.list:
                    print(json.dumps(oa.names()) if args.json else "\n".join(oa.names()), flush=True)
                else:
                    d = oa.newest(args.newest, names)
                    print(json.dumps(_plain(d)) if args.json else _table(d, names), flush=True)
                done += 1
                if args.every <= 0 or (args.count and done >= args.count):
                    return 0
                time.sleep(args.every)
        except OnlineError as e:
            print(f"online_access.py: {e}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 130


if __name__ == "__main__":
    sys.exit(main())
