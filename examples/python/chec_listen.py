#!/usr/bin/python3
"""Listen to CHEC-S camera events from Hutch, like SSDAQ's event listener (see docs/wire.md).

usage: chec_listen.py ADDRESS [--instrument chec] [--stream events] [--count N] [--timeout S]

A `ChecListener` subscribes to `<instrument>/<stream>/event-page`, splits each page into events and hands them
out one by one: `get(timeout=None)` blocks (or gives up after `timeout` seconds and returns None), iteration
works too, and `close()` (also on Ctrl-C or leaving a `with` block) closes the socket cleanly.
Each event is a dict: event_number, run_number, timestamp (ns), complete, module_mask (uint8[32], 1 where the
module is present), data (32 x 64 mV, float32), plus every other field of the stream. Needs pyzmq, msgpack and numpy (/usr/bin/python3 on Debian).
"""

import argparse
import collections
import os
import sys

import numpy as np
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from listen import WireError, decode  # noqa: E402  (same folder)


class ChecListener:
    """Camera events from a Hutch bus, one at a time."""

    def __init__(self, address, instrument="chec", stream="events"):
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.SUB)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.setsockopt(zmq.SUBSCRIBE, f"{instrument}/{stream}/event-page".encode())
        self._sock.connect(address)
        self._pending = collections.deque()
        self.skipped = 0

    def _fill(self, timeout):
        if not self._sock.poll(None if timeout is None else int(timeout * 1000)):
            return False
        try:
            _, _, page = decode(self._sock.recv_multipart(copy=False))
        except (WireError, KeyError, ValueError):
            self.skipped += 1
            return True
        n = page["n"]
        for i in range(n):
            ev = {k: (a[i] if a.ndim else a) for k, a in page["data"].items()}
            ev["seq"] = page["seq"] + i
            ev["time"] = float(page["time"][i])
            if "data" in ev and ev["data"].size == 2048:
                ev["data"] = ev["data"].reshape(32, 64)
            self._pending.append(ev)
        return True

    def get(self, timeout=None):
        """The next event; waits at most `timeout` seconds (forever when None) and returns None on timeout."""
        while not self._pending:
            if not self._fill(timeout):
                return None
        return self._pending.popleft()

    def __iter__(self):
        while True:
            ev = self.get()
            if ev is not None:
                yield ev

    def close(self):
        self._sock.close(0)
        self._ctx.term()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description="Print CHEC-S camera events from a Hutch bus.")
    ap.add_argument("address", help="the core's document address, e.g. tcp://127.0.0.1:5552")
    ap.add_argument("--instrument", default="chec")
    ap.add_argument("--stream", default="events")
    ap.add_argument("--count", type=int, default=0, help="exit after N events")
    ap.add_argument("--timeout", type=float, default=None, help="give up after S seconds without an event")
    args = ap.parse_args(argv)
    seen = 0
    with ChecListener(args.address, args.instrument, args.stream) as listener:
        try:
            while args.count <= 0 or seen < args.count:
                ev = listener.get(timeout=args.timeout)
                if ev is None:
                    print(f"chec_listen.py: no event within {args.timeout} s", file=sys.stderr)
                    return 1
                seen += 1
                present = int(ev["module_mask"].sum()) if "module_mask" in ev else 0
                print(
                    f"event {int(ev.get('event_number', ev['seq']))} run {int(ev.get('run_number', 0))} "
                    f"t={int(ev.get('timestamp', 0))} modules={present} "
                    f"mean={float(np.nanmean(ev['data'])):.2f} mV",
                    flush=True,
                )
        except KeyboardInterrupt:
            return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
