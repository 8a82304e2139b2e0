"""Byte rings from Python: copies and in-place views, zero-copy reservations, backpressure,
close and iteration, many-to-one with clones, and the errors."""
import threading
import time

import numpy as np
import pytest

import ringwire


def body(n):
    return n.to_bytes(8, "little") + bytes([n & 0xFF]) * (n % 200)


def test_records_round_trip(segname):
    with ringwire.Segment.create_byte_ring(segname(), 1 << 12) as seg, seg.writer() as w, seg.reader() as r:
        assert seg.kind == ringwire.Kind.BYTE_RING and seg.dtype is None
        assert seg.info.policy == 1 and seg.info.capacity == 1 << 12
        assert r.try_read() is None
        for n in range(300):  # wraps the 4 KiB ring many times
            assert w.try_write(1 + n % 5, body(n))
            assert r.try_read() == (1 + n % 5, body(n))
        w.write(9, b"")
        assert r.read_for(1.0) == (9, b"")
        assert r.received == 301


def test_full_ring_and_write_for(segname, after):
    with ringwire.Segment.create_byte_ring(segname(), 256) as seg, seg.writer() as w, seg.reader() as r:
        n = 0
        while w.try_write(1, bytes(40)):
            n += 1
        assert 0 < n < 10 and w.last_status == ringwire.Status.FULL
        assert w.write_for(1, bytes(40), 0.1) is False
        after(0.2, lambda: [r.try_read() for _ in range(n)])
        assert w.write_for(1, bytes(40), 5.0)


def test_views_in_place_until_release(segname):
    with ringwire.Segment.create_byte_ring(segname(), 1 << 12) as seg, seg.writer() as w, seg.reader() as r:
        for n in range(3):
            w.write(3, body(n + 10))
        views = [r.try_read_view() for _ in range(3)]
        assert [t for t, _ in views] == [3, 3, 3]
        assert [bytes(v) for _, v in views] == [body(10), body(11), body(12)]
        assert all(v.readonly for _, v in views)
        kept = np.frombuffer(views[0][1], dtype=np.uint8)  # an export of a view
        assert r.try_read_view() is None
        r.release()
        for i in (1, 2):
            with pytest.raises(ValueError):  # released memoryviews refuse access
                bytes(views[i][1])
        # the exported one stays mapped (its bytes are no longer meaningful): no crash
        assert kept.shape == (len(body(10)),)
        int(kept.sum())
        # a copying read ends outstanding views too
        w.write(4, b"v")
        w.write(5, b"c")
        t, v = r.try_read_view()
        assert (t, bytes(v)) == (4, b"v")
        assert r.try_read() == (5, b"c")
        with pytest.raises(ValueError):
            v.tobytes()


def test_read_view_for_waits(segname, after):
    with ringwire.Segment.create_byte_ring(segname(), 1 << 12) as seg, seg.writer() as w, seg.reader() as r:
        after(0.2, lambda: w.write(6, b"later"))
        t, v = r.read_view_for(5.0)
        assert (t, bytes(v)) == (6, b"later")
        r.release()
        assert r.read_view_for(0.05) is None


def test_reserve_commit_abort(segname):
    with ringwire.Segment.create_byte_ring(segname(), 1 << 12) as seg, seg.writer() as w, seg.reader() as r:
        mv = w.reserve(64)
        assert isinstance(mv, memoryview) and not mv.readonly and len(mv) == 64
        mv[:5] = b"zero-"
        mv[5:10] = b"copy!"
        with pytest.raises(ringwire.Error):
            w.try_write(1, b"not now")  # a reservation is open
        with pytest.raises(ringwire.Error):
            w.reserve(8)
        w.commit(11, 10)
        with pytest.raises(ValueError):
            mv[0] = 1  # released at commit
        assert r.try_read() == (11, b"zero-copy!")
        mv = w.reserve(16)
        mv[:] = bytes(range(16))
        w.abort()
        assert r.try_read() is None
        arr = np.frombuffer(w.reserve(8), dtype="<u8")
        arr[0] = 0x0102030405060708
        with pytest.raises(BufferError):
            w.commit(12)  # the array would stay writable over the reader's record
        del arr
        w.commit(12)  # all 8 bytes
        assert r.try_read() == (12, (0x0102030405060708).to_bytes(8, "little"))
        with pytest.raises(ringwire.Error):
            w.commit(1)  # nothing reserved
        with pytest.raises(ValueError):
            w.reserve(16) and w.commit(1, 17)
        w.abort()


def test_errors(segname):
    with pytest.raises(ringwire.Error) as e:
        ringwire.Segment.create_byte_ring(segname(), 100)  # not a power of two
    assert e.value.errc in (ringwire.Errc.INVALID_CAPACITY, ringwire.Errc.INVALID_OPTIONS)
    with ringwire.Segment.create_byte_ring(segname(), 1 << 10) as seg, seg.writer() as w, seg.reader() as r:
        with pytest.raises(ringwire.Error) as e:
            w.write(0, b"type 0 is reserved")
        assert e.value.errc == ringwire.Errc.INVALID_MESSAGE_TYPE
        with pytest.raises(ringwire.Error) as e:
            w.write(1, bytes(1 << 10))  # above capacity/2 - 8
        assert e.value.errc == ringwire.Errc.MESSAGE_TOO_LARGE
        with pytest.raises(ringwire.Error) as e:
            seg.writer()
        assert e.value.errc == ringwire.Errc.SHM_ALREADY_ATTACHED
        with pytest.raises(ringwire.Error) as e:
            w.clone()  # one-to-one
        assert e.value.errc == ringwire.Errc.INVALID_ARGUMENT
        with pytest.raises(ValueError):
            seg.reader(credited=True)
        with pytest.raises(ringwire.Error) as e:
            seg.receiver()
        assert e.value.errc == ringwire.Errc.SHM_KIND_MISMATCH
        r.close()
        with pytest.raises(ringwire.Error):
            r.try_read_view()
        with pytest.raises(ringwire.Error):
            r.release()


def test_close_drains_then_closed(segname, after):
    with ringwire.Segment.create_byte_ring(segname(), 1 << 12) as seg, seg.reader() as r:
        w = seg.writer()

        def produce():
            for n in range(2000):
                w.write(7, body(n))
            w.close()

        after(0.05, produce)
        got = list(r)
        assert got == [(7, body(n)) for n in range(2000)]
        with pytest.raises(ringwire.Closed):
            r.try_read()


def test_many_to_one_with_clones(segname):
    with ringwire.Segment.create_byte_ring(segname(), 1 << 14, many_to_one=True, max_writers=4) as seg:
        # policy records byte_ring::ring_kind: 1 one-to-one, 2 many-to-one (the C header's
        # comment says "byte ring: 1 many-to-one"; the recorded values are these)
        assert seg.info.policy == 2 and seg.info.endpoints == 4
        r = seg.reader()
        w = seg.writer()
        writers = [w] + [w.clone() for _ in range(2)]

        def produce(k, wr):
            for n in range(500):
                wr.write(k + 1, n.to_bytes(4, "little"))
            wr.close()

        threads = [threading.Thread(target=produce, args=(k, wr)) for k, wr in enumerate(writers)]
        for t in threads:
            t.start()
        last = {1: -1, 2: -1, 3: -1}
        for _ in range(1500):
            t, b = r.read_for(5.0)
            n = int.from_bytes(b, "little")
            assert n == last[t] + 1  # FIFO per writer
            last[t] = n
        for t in threads:
            t.join()
        assert last == {1: 499, 2: 499, 3: 499}
        assert r.read_for(0.05) is None  # writers gone, the stream goes on ...
        assert seg.close_writers()  # ... until close_writers
        with pytest.raises(ringwire.Closed):
            r.read_for(1.0)
        r.close()


def test_reservation_views_cannot_outlive_commit_or_abort(segname):
    with ringwire.Segment.create_byte_ring(segname(), 1 << 12) as seg, seg.writer() as w, seg.reader() as r:
        derive = {
            "slice": lambda mv: mv[:],
            "memoryview": memoryview,
            "cast": lambda mv: mv.cast("Q"),
            "frombuffer": lambda mv: np.frombuffer(mv, dtype=np.uint8),
        }
        for name, make in derive.items():
            for end in ("commit", "abort"):
                mv = w.reserve(16)
                mv[:] = bytes(range(16))
                other = make(mv)
                exporter = mv.obj
                with pytest.raises(BufferError):
                    w.commit(3) if end == "commit" else w.abort()
                with pytest.raises(ringwire.Error):
                    w.try_write(1, b"x")  # still open
                assert r.try_read() is None
                del other
                if end == "commit":
                    w.commit(3)
                    assert r.try_read() == (3, bytes(range(16))), name
                else:
                    w.abort()
                    assert r.try_read() is None
                # ended: the memoryview, anything made from it now, its exporter
                with pytest.raises(ValueError):
                    mv[0] = 1
                with pytest.raises(ValueError):
                    mv[:]
                with pytest.raises(ValueError):
                    np.frombuffer(mv, dtype=np.uint8)
                with pytest.raises(BufferError):
                    memoryview(exporter)
        # close() cannot refuse: it abandons the reservation and ends what it can
        mv = w.reserve(16)
        exporter = mv.obj
        w.close()
        with pytest.raises(ValueError):
            mv[0] = 1
        with pytest.raises(BufferError):
            memoryview(exporter)


def test_a_copying_read_gives_back_records_read_in_place(segname):
    # Views fill the ring; a try_read that finds nothing must still give their records back,
    # or the writer waits for ever while the reader polls.
    with ringwire.Segment.create_byte_ring(segname(), 256) as seg, seg.writer() as w, seg.reader() as r:
        n = 0
        while w.try_write(1, bytes(40)):
            n += 1
        views = [r.try_read_view() for _ in range(n)]
        assert all(v is not None for v in views) and r.try_read_view() is None
        assert not w.try_write(1, bytes(40))  # held in place
        assert r.try_read() is None
        assert w.try_write(1, bytes(range(40)))  # the writer goes on
        assert r.try_read() == (1, bytes(range(40)))
        with pytest.raises(ValueError):
            bytes(views[0][1])


def test_views_taken_while_another_thread_waits_keep_their_bytes(segname):
    # One thread waits in timed reads (slices, the lock let go between them) while this one
    # takes views in place: a view not yet released keeps its bytes (the waiting thread's
    # timed read gives records back only after ending their views).
    with ringwire.Segment.create_byte_ring(segname(), 1 << 10) as seg, seg.writer() as w, seg.reader() as r:
        stop = threading.Event()
        copied = []

        def waiting_reader():
            while not stop.is_set():
                x = r.read_for(0.15)
                if x is not None:
                    copied.append(x)

        t = threading.Thread(target=waiting_reader)
        t.start()
        try:
            held, n, viewed = [], 0, 0
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                for _ in range(4):
                    if w.try_write(2, body(n)):
                        n += 1
                x = r.try_read_view()
                if x is not None:
                    viewed += 1
                    held.append((bytes(x[1]), x[1]))
                alive = []
                for expect, v in held:
                    try:
                        got = bytes(v)
                    except ValueError:
                        continue  # ended
                    assert got == expect
                    alive.append((expect, v))
                held = alive
                if n % 16 == 0:
                    time.sleep(0.06)  # let the other thread wait a slice or two
        finally:
            stop.set()
            t.join(10)
        assert not t.is_alive()


def test_close_from_another_thread_ends_a_blocked_write(segname, after):
    with ringwire.Segment.create_byte_ring(segname(), 256) as seg, seg.reader():
        w = seg.writer()
        while w.try_write(1, bytes(40)):
            pass
        after(0.2, w.close)
        with pytest.raises(ringwire.Error) as e:
            w.write(1, bytes(40))  # forever
        assert e.value.errc == ringwire.Errc.INVALID_ARGUMENT
        assert w.closed
