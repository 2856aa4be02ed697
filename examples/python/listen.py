#!/usr/bin/python3
"""Subscribe to a Hutch bus and print one document a line (see docs/wire.md).

usage: listen.py ADDRESS [PREFIX] [--json] [--count N]

  ADDRESS   a ZeroMQ endpoint to connect to, e.g. tcp://127.0.0.1:5560 (a publisher or a broker's outAddress)
  PREFIX    topic prefix, e.g. demo/ or demo/waveforms/ (default: everything)
  --json    print JSON lines {"topic", "origin", "doc"}; arrays as {"dtype", "shape", "data": [...]}, with
            int64/uint64 elements as decimal strings and NaN/Infinity as "nan"/"inf"/"-inf" so that any JSON
            parser reads exact values
  --count N exit (status 0) after N documents

Needs pyzmq, msgpack and numpy (Debian: python3-zmq python3-msgpack python3-numpy, run with /usr/bin/python3).
Arrays are numpy views of the received frames, never copied. Ctrl-C closes the socket and exits with status 130.
"""

import argparse
import json
import math
import sys

import msgpack
import numpy as np
import zmq

WIRE_VERSIONS = (1, 2)  # 2: arrays at {frame, offset} of body frames; 1: one frame per array
EXACT = 2**53


class WireError(Exception):
    """A message that does not follow docs/wire.md."""


def decode(frames):
    """[topic, header, *bodies] -> (topic, origin, doc) with every {"$nd": i} replaced by a numpy array."""
    if len(frames) < 2:
        raise WireError(f"expected at least 2 frames, got {len(frames)}")
    topic = bytes(frames[0].buffer).decode("utf-8")
    header = msgpack.unpackb(frames[1].buffer, raw=False)
    version = header.get("v") if isinstance(header, dict) else None
    if version not in WIRE_VERSIONS:
        raise WireError(f"{topic}: wire version {version}, this reader reads versions 1 and 2")
    specs = header.get("arrays", [])
    bodies = [f.buffer for f in frames[2:]]
    if version == 1 and len(specs) != len(bodies):
        raise WireError(f"{topic}: header declares {len(specs)} arrays, message has {len(bodies)}")
    arrays = []
    used = 0
    for i, spec in enumerate(specs):
        dtype = np.dtype(spec["dtype"]).newbyteorder("<")  # the wire is little-endian
        shape = tuple(spec["shape"])
        count = math.prod(shape)
        frame, offset = (i, 0) if version == 1 else (spec["frame"], spec["offset"])
        if not 0 <= frame < len(bodies):
            raise WireError(f"{topic}: arrays[{i}] is in body frame {frame}, message has {len(bodies)}")
        used = max(used, frame + 1)
        body = bodies[frame]
        end = offset + dtype.itemsize * count
        if offset < 0 or (body.nbytes != end if version == 1 else body.nbytes < end):
            raise WireError(f"{topic}: body frame {frame} of {body.nbytes} bytes for {spec}")
        arrays.append(np.frombuffer(body, dtype=dtype, count=count, offset=offset).reshape(shape))
    if used != len(bodies):
        raise WireError(f"{topic}: header's arrays use {used} body frames, message has {len(bodies)}")

    def restore(v):
        if isinstance(v, dict):
            if len(v) == 1 and "$nd" in v:
                return arrays[v["$nd"]]
            return {k: restore(x) for k, x in v.items()}
        if isinstance(v, list):
            return [restore(x) for x in v]
        return v

    return topic, header.get("origin"), restore(header["doc"])


def jsonable(v):
    """Plain JSON values that keep exact numbers in any parser."""
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "iu" and v.dtype.itemsize == 8:
            data = [str(x) for x in v.ravel().tolist()]
        else:
            data = [jsonable(x) for x in v.ravel().tolist()]
        return {"dtype": v.dtype.name, "shape": list(v.shape), "data": data}
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return v if -EXACT <= v <= EXACT else str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    return str(v)


def text(topic, origin, doc):
    """One human-readable line: topic, origin, then the document with arrays as short numpy reprs."""
    with np.printoptions(threshold=8, edgeitems=2, linewidth=sys.maxsize):
        body = repr(doc).replace("\n", " ")
    return f"{topic} [{origin or '-'}] {body}"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Print documents from a Hutch bus, one a line.")
    ap.add_argument("address")
    ap.add_argument("prefix", nargs="?", default="")
    ap.add_argument("--json", action="store_true", help="JSON lines with exact array values")
    ap.add_argument("--count", type=int, default=0, help="exit after N documents")
    args = ap.parse_args(argv)

    ctx = zmq.Context()
    sock = ctx.socket(zmq.SUB)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SUBSCRIBE, args.prefix.encode("utf-8"))
    sock.connect(args.address)
    seen = 0
    try:
        while args.count <= 0 or seen < args.count:
            frames = sock.recv_multipart(copy=False)
            try:
                topic, origin, doc = decode(frames)
            except Exception as e:  # noqa: BLE001 - any malformed message is skipped, never fatal
                print(f"listen.py: skipped a malformed message: {e}", file=sys.stderr, flush=True)
                continue
            if args.json:
                line = json.dumps({"topic": topic, "origin": origin, "doc": jsonable(doc)})
            else:
                line = text(topic, origin, doc)
            print(line, flush=True)
            seen += 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        return 0
    finally:
        sock.close()
        ctx.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
