#!/usr/bin/env python3
"""bc_subscriber.py NAME [TYPE_TAG] -- a Python subscriber on a typed broadcast segment,
spawned by the cross-language tests.

Arguments
  NAME      the segment's name (e.g. /xlang-bc-1234). It must exist and hold a typed
            broadcast channel whose element is 16 bytes, little-endian:
                uint64 seq; uint64 check;   check == seq * 0x9E3779B97F4A7C15 mod 2**64
            (C++: struct alignas(8) { std::uint64_t seq, check; }).
  TYPE_TAG  optional: the element's type tag, checked at attach (decimal or 0x hex);
            default 0: not checked.

It attaches one subscriber, which starts at the next message published (the spawner knows it
is attached once the segment's counters show it: Counter role "claims", key "subscriber";
`ringwire stat` shows the same), then reads until the stream closes (the publisher closed).
Every message must have a correct check and the next sequence number: the first message
sets the start, and a lag of M messages (lossy segments) advances the expected number by M.

Output and exit status
  0  prints "ok N missed M" on stdout: N messages received and checked, M reported missed
  1  a mismatch (a wrong check or a sequence gap not reported as a lag): one line on stderr
  2  usage, or the segment could not be attached (the ringwire.Error on stderr)
Needs the ringwire module on PYTHONPATH (build/<dir>/python in a build tree).
"""
import sys

import numpy as np

import ringwire

K = 0x9E3779B97F4A7C15
MASK = (1 << 64) - 1
RECORD = np.dtype([("seq", "<u8"), ("check", "<u8")])


def evictions_fail(it):
    try:
        yield from it
    except ringwire.Evicted as e:  # an evict-policy publisher dropped us: a failure here
        print(f"bc_subscriber: {e}", file=sys.stderr)
        sys.exit(1)


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        tag = int(argv[2], 0) if len(argv) == 3 else 0
        seg = ringwire.Segment.open(argv[1], dtype=RECORD)
        sub = seg.subscriber(type_tag=tag)
    except (ringwire.Error, ValueError) as e:
        print(f"bc_subscriber: {argv[1]}: {e}", file=sys.stderr)
        return 2
    received = missed = 0
    expected = None
    with seg, sub:
        for item in evictions_fail(sub.iter(lagged=True)):
            if isinstance(item, ringwire.Lagged):
                missed += item.missed
                if expected is not None:
                    expected += item.missed
                continue
            seq, check = int(item["seq"]), int(item["check"])
            if check != (seq * K) & MASK:
                print(f"bc_subscriber: message {seq}: check {check:#x}, expected {(seq * K) & MASK:#x}", file=sys.stderr)
                return 1
            if expected is not None and seq != expected:
                print(f"bc_subscriber: sequence {seq} where {expected} was expected (missed so far {missed})",
                      file=sys.stderr)
                return 1
            expected = seq + 1
            received += 1
        if missed != sub.missed:  # the running total and the Lagged results agree
            print(f"bc_subscriber: {missed} missed in Lagged results, {sub.missed} in the total", file=sys.stderr)
            return 1
    print(f"ok {received} missed {missed}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
