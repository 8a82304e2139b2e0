#!/usr/bin/env python3
"""bench_recv.py -- messages per second received in Python from a C++ writer process.

A C++ process (bench/bench_writer.cpp, target rwpy_bench_writer) publishes into a segment this
script created and reads from with a lossless reader (a credited byte-broadcast reader, a
lossless typed broadcast), so the writer waits for Python and the rate is Python's receive
rate. Cases:

  bb bytes 64 B     for m in reader: bytes copies (byte broadcast)
  bb read_into 64 B reader.read_into(bytearray) in a loop, no allocation per message
  bb bytes 1 KiB    as the first, 1 KiB messages
  bc record         for rec in subscriber: one numpy record per message (typed broadcast
                    of {u64 seq, u64 check})
  bc batch          subscriber.recv_n_for(4096, ...): numpy arrays of what is queued

The rate is counted from the first message received to the last (the writer's start-up is
not in it). Runs in well under 20 s; --smoke runs a few thousand messages per case and checks
every one (CTest: python_bench_smoke).

  PYTHONPATH=build/py/python /usr/bin/python3 bindings/python/bench_recv.py [--writer PATH] [--scale F]
"""
import argparse
import os
import subprocess
import sys
import threading
import time

import numpy as np

import ringwire

K = 0x9E3779B97F4A7C15
TAG = 0x7277707962656E63  # "rwpybenc": the C++ writer's type_tag<rec>
REC = np.dtype([("seq", "<u8"), ("check", "<u8")])


class Writer:
    """The C++ writer process; a watchdog closes the reader if it fails, so no read hangs."""

    def __init__(self, exe, args, reader):
        self.proc = subprocess.Popen([exe, *map(str, args)], stderr=subprocess.PIPE, text=True)
        self.err = ""
        self.watch = threading.Thread(target=self._watch, args=(reader,), daemon=True)
        self.watch.start()

    def _watch(self, reader):
        self.err = self.proc.stderr.read()
        if self.proc.wait() != 0:
            reader.close()  # a blocked read then raises ringwire.Error

    def finish(self):
        self.watch.join(30)
        if self.proc.returncode != 0:
            raise SystemExit(f"bench_writer failed ({self.proc.returncode}): {self.err.strip()}")


def bb_case(exe, name, count, size, mode, check):
    seg = ringwire.Segment.create_byte_broadcast(name, 4096, 1 << 22, 4096, 1)
    try:
        r = seg.reader(credited=True)
        w = Writer(exe, ["bb", name, count, size], r)
        n, first, last_seq = 0, None, 0
        if mode == "bytes":
            for m in r:
                if first is None:
                    first = time.perf_counter()
                n += 1
                if check:
                    seq = int.from_bytes(m[:8], "little")
                    assert seq == n and len(m) == size and m[8:] == b"\x5a" * (size - 8), (n, seq)
                last_seq = m
            last_seq = int.from_bytes(last_seq[:8], "little") if n else 0
        else:
            buf = bytearray(4096)
            view = memoryview(buf)
            while True:
                try:
                    got = r.read_into(buf, None)
                except ringwire.Closed:
                    break
                if first is None:
                    first = time.perf_counter()
                n += 1
                if check:
                    assert got == size and int.from_bytes(view[:8], "little") == n
            last_seq = int.from_bytes(view[:8], "little") if n else 0
        end = time.perf_counter()
        w.finish()
        assert n == count and last_seq == count and r.missed == 0, (n, last_seq, r.missed)
        r.close()
        return n, end - first
    finally:
        seg.close()
        ringwire.unlink(name)


def bc_case(exe, name, count, mode, check):
    seg = ringwire.Segment.create_broadcast(name, 4096, 2, REC, type_tag=TAG, policy="lossless")
    try:
        s = seg.subscriber(type_tag=TAG)
        w = Writer(exe, ["bc", name, count], s)
        n, first, last = 0, None, 0
        if mode == "record":
            for rec in s:
                if first is None:
                    first = time.perf_counter()
                n += 1
                if check:
                    assert int(rec["seq"]) == n and int(rec["check"]) == (n * K) & (2**64 - 1)
                last = rec
            last = int(last["seq"]) if n else 0
        else:
            while True:
                try:
                    a = s.recv_n_for(4096, None)
                except ringwire.Closed:
                    break
                if first is None:
                    first = time.perf_counter()
                if check:
                    expect = np.arange(n + 1, n + 1 + len(a), dtype=np.uint64)
                    assert (a["seq"] == expect).all() and (a["check"] == expect * np.uint64(K)).all()
                n += len(a)
                if len(a):
                    last = int(a["seq"][-1])
        end = time.perf_counter()
        w.finish()
        assert n == count and last == count and s.missed == 0, (n, last, s.missed)
        s.close()
        return n, end - first
    finally:
        seg.close()
        ringwire.unlink(name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(ringwire.__file__))
    ap.add_argument("--writer", default=os.path.join(here, "rwpy_bench_writer"), help="the C++ writer executable")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the message counts")
    ap.add_argument("--smoke", action="store_true", help="a few thousand messages per case, each checked")
    a = ap.parse_args()
    if not os.access(a.writer, os.X_OK):
        raise SystemExit(f"no writer at {a.writer} (build the rwpy_bench_writer target, or pass --writer)")
    counts = {"bb64": 3_000_000, "into": 3_000_000, "bb1k": 2_000_000, "rec": 2_000_000, "batch": 20_000_000}
    if a.smoke:
        counts = dict.fromkeys(counts, 5000)
    else:
        counts = {k: max(1000, int(v * a.scale)) for k, v in counts.items()}
    base = f"/rwpy-bench-{os.getpid()}"
    cases = [
        ("bb bytes 64 B", lambda: bb_case(a.writer, base + "-1", counts["bb64"], 64, "bytes", a.smoke)),
        ("bb read_into 64 B", lambda: bb_case(a.writer, base + "-2", counts["into"], 64, "into", a.smoke)),
        ("bb bytes 1 KiB", lambda: bb_case(a.writer, base + "-3", counts["bb1k"], 1024, "bytes", a.smoke)),
        ("bc record (16 B)", lambda: bc_case(a.writer, base + "-4", counts["rec"], "record", a.smoke)),
        ("bc batch (16 B)", lambda: bc_case(a.writer, base + "-5", counts["batch"], "batch", a.smoke)),
    ]
    print(f"{'case':<20} {'messages':>10} {'seconds':>8} {'msg/s':>12} {'ns/msg':>8}")
    for label, run in cases:
        n, secs = run()
        rate = (n - 1) / secs if secs > 0 else float("inf")
        print(f"{label:<20} {n:>10} {secs:>8.3f} {rate:>12,.0f} {1e9 / rate:>8.0f}", flush=True)
    if a.smoke:
        print("bench_recv: smoke ok (every message checked)")


if __name__ == "__main__":
    main()
