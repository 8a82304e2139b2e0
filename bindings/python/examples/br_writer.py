#!/usr/bin/env python3
"""br_writer.py NAME COUNT -- a Python writer on a byte-ring segment, spawned by the
cross-language tests.

Arguments
  NAME   the segment's name (e.g. /xlang-br-1234); it must exist and hold a byte ring
         (one-to-one or many-to-one).
  COUNT  how many records to write.

Record n, for n = 0, 1, ..., COUNT-1, has type 7 and the payload
    n as 8 bytes little-endian, then (n % 200) bytes each of value n & 0xff
(8 to 207 bytes). Writes wait for room as long as it takes (the reader sets the pace). At the
end it closes its writer: on a one-to-one ring the reader then sees the stream closed once it
drained it; on a many-to-one ring the stream ends only when someone calls close_writers.

Exit status: 0 all written; 1 the reader went away (ringwire.Closed) or a write failed;
2 usage, or the segment could not be attached (the ringwire.Error on stderr).
Needs the ringwire module on PYTHONPATH (build/<dir>/python in a build tree).
"""
import sys

import ringwire

TYPE = 7


def record(n):
    return n.to_bytes(8, "little") + bytes([n & 0xFF]) * (n % 200)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        count = int(argv[2])
        seg = ringwire.Segment.open(argv[1])
        writer = seg.writer()
    except (ringwire.Error, ValueError) as e:
        print(f"br_writer: {argv[1]}: {e}", file=sys.stderr)
        return 2
    with seg, writer:
        try:
            for n in range(count):
                writer.write(TYPE, record(n))
        except (ringwire.Closed, ringwire.Error) as e:
            print(f"br_writer: record {n}: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
