#!/usr/bin/env python3
"""bindings_bench.py -- messages per second received by a C++, a Python and a Rust reader
from the same C++ writer, on the same kind of segment, in one interleaved run.

Each run: this driver creates the segment (the ringwire module), starts one reader process
pinned to CPU 1, waits for it to attach ("ready"), starts the C++ writer pinned to CPU 0
(ringwire_bindings_bench_peer write-...), and takes the reader's "received N seconds S"
(first message to last). The readers are lossless (a credited byte-broadcast reader, a
subscriber of a lossless typed broadcast), so the writer waits for the reader and the rate
is the reader's: every message is checked by every reader. Channels and readers:

  bb  byte broadcast, 64-byte messages        C++ | Python bytes | Python read_into | Rust
  bc  typed broadcast, 16-byte {seq, check}   C++ | Python numpy record | Python numpy batch | Rust

Repetitions interleave the readers (rotated each repetition); the table holds medians and
each reader's ratio to the C++ reader of the same channel.

  PYTHONPATH=build/release/python /usr/bin/python3 bindings/bench/bindings_bench.py \\
      --peer build/release/bindings/bench/ringwire_bindings_bench_peer \\
      --rust-reader build/release/rust-target/release/examples/bench_reader [--reps 5] [--scale 1]

--smoke: one repetition of a few thousand messages per reader (CTest bindings_bench_smoke).
Internal: --reader MODE NAME COUNT runs one Python reader (what the driver spawns).
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

import ringwire

K = 0x9E3779B97F4A7C15
TAG = 0x7277707962656E63  # "rwpybenc": the C++ peer's type_tag<rec>
REC = np.dtype([("seq", "<u8"), ("check", "<u8")])
MESSAGE = 64  # byte-broadcast message size


# ---- the Python readers (run in their own process: --reader) -----------------------------

def python_reader(mode, name, count):
    seg = ringwire.Segment.open(name, dtype=REC if mode.startswith("bc") else None)
    n, first = 0, None
    if mode.startswith("bb"):
        r = seg.reader(credited=True)
        print("ready", flush=True)
        if mode == "bb-bytes":
            for m in r:
                last = time.perf_counter()
                first = first or last
                n += 1
                if int.from_bytes(m[:8], "little") != n:
                    raise SystemExit(f"message {n}: out of sequence")
        else:
            buf = bytearray(4096)
            view = memoryview(buf)
            while True:
                try:
                    r.read_into(buf, None)
                except ringwire.Closed:
                    break
                last = time.perf_counter()
                first = first or last
                n += 1
                if int.from_bytes(view[:8], "little") != n:
                    raise SystemExit(f"message {n}: out of sequence")
    else:
        s = seg.subscriber(type_tag=TAG)
        print("ready", flush=True)
        if mode == "bc-record":
            for rec in s:
                last = time.perf_counter()
                first = first or last
                n += 1
                seq, check = rec.item()  # one call: a third of two field lookups
                if seq != n or check != (n * K) & (2**64 - 1):
                    raise SystemExit(f"message {n}: out of sequence or a bad check")
        else:
            while True:
                try:
                    a = s.recv_n_for(4096, None)
                except ringwire.Closed:
                    break
                last = time.perf_counter()
                first = first or last
                expect = np.arange(n + 1, n + 1 + len(a), dtype=np.uint64)
                if not ((a["seq"] == expect).all() and (a["check"] == expect * np.uint64(K)).all()):
                    raise SystemExit(f"messages {n + 1}..: out of sequence or a bad check")
                n += len(a)
    if n != count:
        raise SystemExit(f"received {n} of {count}")
    print(f"received {n} seconds {last - first:.9f}", flush=True)


# ---- the driver --------------------------------------------------------------------------

def pinned(cpu):
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def run_once(channel, reader_cmd, peer, name, count, cpus):
    """One reader against the C++ writer: returns messages per second."""
    if channel == "bb":
        seg = ringwire.Segment.create_byte_broadcast(name, 4096, 1 << 22, 4096, 1)
        writer_cmd = [peer, "write-bb", name, str(count), str(MESSAGE)]
    else:
        seg = ringwire.Segment.create_broadcast(name, 4096, 2, REC, type_tag=TAG, policy="lossless")
        writer_cmd = [peer, "write-bc", name, str(count)]
    try:
        reader = subprocess.Popen(reader_cmd, stdout=subprocess.PIPE, text=True, preexec_fn=pinned(cpus[1]))
        try:
            line = reader.stdout.readline().strip()
            if line != "ready":
                raise SystemExit(f"{reader_cmd}: no ready ({line!r})")
            writer = subprocess.run(writer_cmd, preexec_fn=pinned(cpus[0]), timeout=600)
            if writer.returncode != 0:
                raise SystemExit(f"{writer_cmd}: exit {writer.returncode}")
            out, _ = reader.communicate(timeout=600)
        finally:
            if reader.poll() is None:
                reader.kill()
                reader.wait()
        if reader.returncode != 0:
            raise SystemExit(f"{reader_cmd}: exit {reader.returncode}")
        words = out.split()
        n, secs = int(words[-3]), float(words[-1])
        if n != count:
            raise SystemExit(f"{reader_cmd}: {n} of {count}")
        return (n - 1) / secs if secs > 0 else float("inf")
    finally:
        seg.close()
        ringwire.unlink(name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peer", help="ringwire_bindings_bench_peer (the C++ writer and reader)")
    ap.add_argument("--rust-reader", help="the Rust bench_reader example (omit: no Rust rows)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the message counts")
    ap.add_argument("--smoke", action="store_true", help="one repetition, a few thousand messages per reader")
    ap.add_argument("--reader", nargs=3, metavar=("MODE", "NAME", "COUNT"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.reader:
        python_reader(a.reader[0], a.reader[1], int(a.reader[2]))
        return
    if not a.peer or not os.access(a.peer, os.X_OK):
        raise SystemExit("--peer: the ringwire_bindings_bench_peer executable is needed")
    me = [sys.executable, os.path.abspath(__file__), "--reader"]
    readers = {
        "bb": [("C++", lambda nm, c: [a.peer, "read-bb", nm, str(c)], 2_000_000),
               ("Python bytes", lambda nm, c: me + ["bb-bytes", nm, str(c)], 1_000_000),
               ("Python read_into", lambda nm, c: me + ["bb-into", nm, str(c)], 1_000_000)],
        "bc": [("C++", lambda nm, c: [a.peer, "read-bc", nm, str(c)], 4_000_000),
               ("Python numpy record", lambda nm, c: me + ["bc-record", nm, str(c)], 1_000_000),
               ("Python numpy batch", lambda nm, c: me + ["bc-batch", nm, str(c)], 4_000_000)],
    }
    if a.rust_reader:
        readers["bb"].append(("Rust", lambda nm, c: [a.rust_reader, "bb", nm, str(c)], 2_000_000))
        readers["bc"].append(("Rust", lambda nm, c: [a.rust_reader, "bc", nm, str(c)], 4_000_000))
    reps = 1 if a.smoke else a.reps
    cpus = (0, 1) if os.cpu_count() and os.cpu_count() >= 2 else (None, None)
    rates = {}
    run = 0
    for rep in range(reps):
        for channel, rows in readers.items():
            k = rep % len(rows)
            for label, cmd, count in rows[k:] + rows[:k]:  # rotated: no reader always first
                count = 3000 if a.smoke else max(1000, int(count * a.scale))
                name = f"/rw-bindings-bench-{os.getpid()}-{run}"
                run += 1
                rates.setdefault((channel, label), []).append(run_once(channel, cmd(name, count), a.peer, name, count, cpus))
    print(f"# {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs; writer on CPU {cpus[0]}, "
          f"reader on CPU {cpus[1]}; {reps} interleaved repetitions, medians")
    print(f"{'channel':<28} {'reader':<22} {'msg/s':>12} {'ns/msg':>8} {'vs C++':>7}")
    titles = {"bb": f"byte broadcast {MESSAGE} B", "bc": "typed broadcast 16 B"}
    for channel, rows in readers.items():
        base = statistics.median(rates[(channel, "C++")])
        for label, _, _ in rows:
            m = statistics.median(rates[(channel, label)])
            print(f"{titles[channel]:<28} {label:<22} {m:>12,.0f} {1e9 / m:>8.1f} {m / base:>6.2f}x")
    if a.smoke:
        print("bindings_bench: smoke ok (every message checked by every reader)")


if __name__ == "__main__":
    main()
