"""Byte broadcast from Python: content, metadata, lags with their exact counts, credited
backpressure, errors, closed endpoints, iteration, the GIL released while blocked, Ctrl-C."""
import os
import signal
import threading
import time

import pytest

import ringwire


def make(segname, depth=16, region=1 << 14, max_message=512, credited=1):
    return ringwire.Segment.create_byte_broadcast(segname(), depth, region, max_message, credited)


def payload(n):
    return bytes((n * 7 + i) & 0xFF for i in range(n % 300))


def test_round_trip_every_byte_and_info(segname):
    with make(segname) as seg, seg.writer() as w, seg.reader() as r, seg.reader(credited=True) as c:
        assert r.try_read() is None and r.last_status == ringwire.Status.EMPTY
        for n in range(40):
            assert w.try_write(payload(n), signature=1000 + n)
            got, info = r.try_read(with_info=True)
            assert got == payload(n)
            assert (info.seq, info.signature, info.size) == (n + 1, 1000 + n, len(payload(n)))
            assert info.tspub > 0
            assert c.read_for(1.0) == payload(n)
            assert c.last_info.seq == n + 1
        # the largest message, and an empty one
        big = bytes(range(256)) * 2
        assert w.try_write(big) and r.try_read() == big and c.try_read() == big
        assert w.try_write(b"") and r.try_read() == b"" and c.try_read() == b""
        assert r.received == c.received == 42 and r.missed == c.missed == 0


def test_bytes_like_inputs(segname):
    import numpy as np

    with make(segname) as seg, seg.writer() as w, seg.reader() as r:
        w.write(bytearray(b"abc"))
        w.write(memoryview(b"xdefx")[1:4])
        w.write(np.arange(4, dtype="<u2"))
        assert [r.try_read() for _ in range(3)] == [b"abc", b"def", np.arange(4, dtype="<u2").tobytes()]
        with pytest.raises(TypeError):
            w.write("a str is not bytes")


def test_read_into_and_too_small(segname):
    with make(segname) as seg, seg.writer() as w, seg.reader() as r:
        buf = bytearray(64)
        assert r.read_into(buf) is None
        w.write(b"0123456789", signature=5)
        with pytest.raises(ringwire.TooSmall) as e:
            r.read_into(bytearray(4))
        assert e.value.size == 10  # nothing consumed:
        assert r.read_into(buf, timeout=1.0) == 10 and bytes(buf[:10]) == b"0123456789"
        assert r.last_info.signature == 5 and r.last_info.size == 10
        with pytest.raises(TypeError):
            r.read_into(b"read-only bytes")


def test_lossy_lag_is_exact(segname):
    # depth 16: 50 messages unread; the reader is told exactly how many it lost.
    with make(segname, depth=16, credited=0) as seg, seg.writer() as w, seg.reader() as r:
        for n in range(1, 51):
            w.write(n.to_bytes(8, "little"))
        expected, results = 1, []
        while (m := r.try_read()) is not None:
            results.append(m)
            if isinstance(m, ringwire.Lagged):
                assert m.missed > 0 and not m.corrupt
                expected += m.missed
            else:
                assert int.from_bytes(m, "little") == expected
                expected += 1
        assert expected == 51
        assert isinstance(results[0], ringwire.Lagged)
        assert r.missed == sum(x.missed for x in results if isinstance(x, ringwire.Lagged))
        assert r.missed + r.received == 50 and r.missed >= 50 - 16


def test_skip_counts_for_every_reader(segname):
    with make(segname) as seg, seg.writer() as w, seg.reader() as r, seg.reader(credited=True) as c:
        w.skip(5)
        w.write(b"after")
        for rd in (r, c):
            assert rd.try_read() == ringwire.Lagged(5)
            assert rd.try_read() == b"after"
            assert rd.missed == 5


def test_iter_lagged_yields_the_lags(segname):
    with make(segname) as seg, seg.writer() as w, seg.reader() as r:
        w.write(b"a")
        w.skip(3)
        w.write(b"b")
        w.close()
        assert list(r.iter(lagged=True)) == [b"a", ringwire.Lagged(3), b"b"]
    with make(segname) as seg, seg.writer() as w, seg.reader() as r:
        w.write(b"a")
        w.skip(3)
        w.write(b"b")
        w.close()
        assert list(r) == [b"a", b"b"] and r.missed == 3  # counted, not yielded


def test_credited_reader_holds_the_writer_back(segname):
    with make(segname, depth=16) as seg, seg.writer() as w, seg.reader(credited=True) as c:
        written = 0
        while w.try_write(b"m%d" % written):
            written += 1
            assert written <= 16
        assert written == 16 and w.last_status == ringwire.Status.FULL
        t0 = time.monotonic()
        assert w.write_for(b"late", 0.2) is False
        assert time.monotonic() - t0 >= 0.15
        assert c.try_read() == b"m0"
        assert w.try_write(b"m16")
        got = [c.try_read() for _ in range(16)]
        assert got == [b"m%d" % i for i in range(1, 17)]
        assert c.missed == 0


def test_blocked_writer_is_released_by_a_reading_thread(segname, after):
    with make(segname, depth=16) as seg, seg.writer() as w, seg.reader(credited=True) as c:
        for i in range(16):
            w.write(b"%d" % i)
        after(0.2, lambda: c.read_for(1.0))
        t0 = time.monotonic()
        assert w.write_for(b"waited", 5.0)
        assert time.monotonic() - t0 > 0.1  # it waited; no upper bound (the call's timeout bounds it)


def test_errors_map_to_errc(segname):
    seg = make(segname, max_message=256)
    name = seg.name
    with pytest.raises(ringwire.Error) as e:
        ringwire.Segment.create_byte_broadcast(name, 16, 4096, 256)
    assert e.value.errc == ringwire.Errc.SHM_EXISTS and e.value.message
    with pytest.raises(ringwire.Error) as e:
        ringwire.Segment.open(f"/rwpy-{os.getpid()}-no-such-segment")
    assert e.value.errc == ringwire.Errc.SHM_NOT_FOUND
    assert "SHM_NOT_FOUND" in str(e.value)
    with pytest.raises(ringwire.Error) as e:
        ringwire.Segment.create_byte_broadcast(segname(), 15, 4096, 256)  # depth not a power of two
    assert e.value.errc in (ringwire.Errc.INVALID_CAPACITY, ringwire.Errc.INVALID_OPTIONS)
    w = seg.writer()
    with pytest.raises(ringwire.Error) as e:
        seg.writer()
    assert e.value.errc == ringwire.Errc.SHM_ALREADY_ATTACHED
    with pytest.raises(ringwire.Error) as e:
        w.write(bytes(257))
    assert e.value.errc == ringwire.Errc.MESSAGE_TOO_LARGE
    with pytest.raises(ringwire.Error) as e:
        seg.sender()
    assert e.value.errc == ringwire.Errc.SHM_KIND_MISMATCH
    with pytest.raises(ringwire.Error) as e:
        seg.subscriber()
    assert e.value.errc == ringwire.Errc.SHM_KIND_MISMATCH
    c1 = seg.reader(credited=True)
    with pytest.raises(ringwire.Error) as e:
        seg.reader(credited=True)  # max_credited 1
    assert e.value.errc == ringwire.Errc.TOO_MANY_SUBSCRIBERS
    c1.close()
    seg.reader(credited=True).close()  # the entry was freed
    w.close()
    seg.close()


def test_closed_endpoints_raise_never_crash(segname):
    seg = make(segname)
    w, r = seg.writer(), seg.reader()
    w.close()
    w.close()  # idempotent
    assert w.closed
    for call in (lambda: w.try_write(b"x"), lambda: w.write(b"x"), lambda: w.skip(1)):
        with pytest.raises(ringwire.Error) as e:
            call()
        assert e.value.errc == ringwire.Errc.INVALID_ARGUMENT
    with r:
        pass
    for call in (r.try_read, lambda: r.read_for(0.1), lambda: r.read_into(bytearray(8)), lambda: list(r)):
        with pytest.raises(ringwire.Error):
            call()
    seg.close()
    with pytest.raises(ringwire.Error):
        seg.reader()
    with pytest.raises(ringwire.Error):
        seg.info


def test_endpoints_outlive_their_segment_object(segname):
    seg = make(segname)
    w, r = seg.writer(), seg.reader()
    seg.close()
    del seg
    w.write(b"still mapped")
    assert r.try_read() == b"still mapped"


def test_iteration_ends_at_close(segname, after):
    with make(segname, depth=64) as seg, seg.reader(credited=True) as r:
        w = seg.writer()

        def produce():
            for i in range(500):
                w.write(i.to_bytes(4, "little"))
            w.close()

        after(0.05, produce)
        got = [int.from_bytes(m, "little") for m in r]
        assert got == list(range(500))
        with pytest.raises(ringwire.Closed):
            r.try_read()
        with pytest.raises(EOFError):  # Closed is an EOFError
            r.read()


def test_gil_released_while_blocked(segname, after):
    with make(segname) as seg, seg.writer() as w, seg.reader() as r:
        ticks = []
        after(0.3, lambda: w.write(b"from another thread"))
        stop = threading.Event()

        def spin():
            while not stop.is_set():
                ticks.append(1)
                time.sleep(0.01)

        spinner = threading.Thread(target=spin)
        spinner.start()
        t0 = time.monotonic()
        got = r.read_for(10.0)
        elapsed = time.monotonic() - t0
        stop.set()
        spinner.join()
        assert got == b"from another thread"
        assert elapsed > 0.2  # it waited; no upper bound (the call's timeout bounds it)
        assert len(ticks) >= 5  # Python threads ran while read_for waited


def test_read_for_times_out(segname):
    with make(segname) as seg, seg.writer(), seg.reader() as r:
        t0 = time.monotonic()
        assert r.read_for(0.25) is None
        assert time.monotonic() - t0 > 0.2  # it waited; no upper bound (the call's timeout bounds it)
        assert r.last_status in (ringwire.Status.TIMED_OUT, ringwire.Status.EMPTY)
        import datetime

        assert r.read_for(datetime.timedelta(milliseconds=10)) is None


def test_ctrl_c_interrupts_a_blocking_read(segname, after):
    with make(segname) as seg, seg.writer(), seg.reader() as r:
        main = threading.main_thread().ident
        after(0.3, lambda: signal.pthread_kill(main, signal.SIGINT))
        with pytest.raises(KeyboardInterrupt):
            r.read()  # forever, but interruptible


def test_close_from_another_thread_ends_a_blocked_read(segname, after):
    with make(segname) as seg, seg.writer():
        r = seg.reader()
        after(0.2, r.close)
        with pytest.raises(ringwire.Error) as e:
            r.read_for(10.0)
        assert e.value.errc == ringwire.Errc.INVALID_ARGUMENT


def test_open_by_name_sees_the_geometry(segname):
    with make(segname, depth=32, region=1 << 13, max_message=1024, credited=2) as seg:
        with ringwire.Segment.open(seg.name) as again:
            i = again.info
            assert i.kind == ringwire.Kind.BYTE_BROADCAST == again.kind
            assert (i.depth, i.region_bytes, i.max_message, i.max_credited) == (32, 1 << 13, 1024, 2)
            assert i.creator_pid == os.getpid() and again.dtype is None
            with seg.writer() as w, again.reader() as r:
                w.write(b"across handles")
                assert r.try_read() == b"across handles"
                assert r.max_message == w.max_message == 1024
            assert again.reap() == 0
            counters = again.counters()
            assert all(isinstance(c, ringwire.Counter) for c in counters)
            published = [c.value for c in counters if c.role is None and c.key == "published"]
            assert published == [1]
