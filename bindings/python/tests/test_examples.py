"""The example scripts the cross-language tests spawn, run here as separate processes against
segments this (Python) process creates: examples/bc_subscriber.py and examples/br_writer.py."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import ringwire

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")
K = 0x9E3779B97F4A7C15
TICK = np.dtype([("seq", "<u8"), ("check", "<u8")])


def spawn(script, *args):
    return subprocess.Popen([sys.executable, os.path.join(EXAMPLES, script), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_subscribers(seg, n, proc):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        held = [c.value for c in seg.counters() if c.role == "claims" and c.key == "subscriber"]
        if held and held[0] >= n:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    pytest.fail("the subscriber process never attached")


def run_subscriber(seg, publish, tag=0):
    proc = spawn("bc_subscriber.py", seg.name, *([hex(tag)] if tag else []))
    try:
        wait_for_subscribers(seg, 1, proc)
        with seg.publisher() as p:
            publish(p)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


def good(n):
    return (n, (n * K) & (2**64 - 1))


def test_bc_subscriber_lossless_sees_everything(segname):
    with ringwire.Segment.create_broadcast(segname(), 64, 4, TICK, type_tag=0xB0B, policy="lossless") as seg:
        rc, out, err = run_subscriber(seg, lambda p: [p.send(good(n)) for n in range(1, 5001)], tag=0xB0B)
        assert (rc, out, err) == (0, "ok 5000 missed 0\n", "")


def test_bc_subscriber_lossy_counts_are_exact(segname):
    with ringwire.Segment.create_broadcast(segname(), 8, 4, TICK, policy="lossy") as seg:
        rc, out, err = run_subscriber(seg, lambda p: [p.send(good(n)) for n in range(1, 20001)])
        assert rc == 0, err
        words = out.split()
        assert words[0] == "ok" and words[2] == "missed"
        assert int(words[1]) + int(words[3]) == 20000  # attached before the first: every one accounted


def test_bc_subscriber_detects_a_bad_check(segname):
    with ringwire.Segment.create_broadcast(segname(), 64, 4, TICK, policy="lossless") as seg:
        def publish(p):
            p.send(good(1))
            p.send((2, 12345))

        rc, out, err = run_subscriber(seg, publish)
        assert rc == 1 and out == "" and "check" in err


def test_bc_subscriber_detects_a_gap(segname):
    with ringwire.Segment.create_broadcast(segname(), 64, 4, TICK, policy="lossless") as seg:
        rc, out, err = run_subscriber(seg, lambda p: [p.send(good(n)) for n in (1, 2, 4)])
        assert rc == 1 and "sequence 4" in err


def test_bc_subscriber_usage_and_missing_segment(segname):
    proc = spawn("bc_subscriber.py", f"/rwpy-{os.getpid()}-missing")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "SHM_NOT_FOUND" in err
    with ringwire.Segment.create_spsc(segname(), 8, TICK) as seg:  # the wrong kind
        proc = spawn("bc_subscriber.py", seg.name)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 2 and "SHM_KIND_MISMATCH" in err


def test_br_writer_records(segname):
    with ringwire.Segment.create_byte_ring(segname(), 1 << 14) as seg, seg.reader() as r:
        proc = spawn("br_writer.py", seg.name, 3000)
        try:
            got = 0
            for t, payload in r:
                assert t == 7
                n = int.from_bytes(payload[:8], "little")
                assert n == got and payload[8:] == bytes([n & 0xFF]) * (n % 200)
                got += 1
            assert got == 3000
            out, err = proc.communicate(timeout=30)
            assert (proc.returncode, out, err) == (0, "", "")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_br_writer_usage(segname):
    proc = spawn("br_writer.py", "/x")
    proc.communicate(timeout=30)
    assert proc.returncode == 2
    proc = spawn("br_writer.py", f"/rwpy-{os.getpid()}-missing", 5)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "SHM_NOT_FOUND" in err
