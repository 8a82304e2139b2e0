"""Segments of every kind from Python: what the header records, open by name, unlink,
counters, reap, the module's classes; and an endpoint shared by threads (serialised, never a
crash)."""
import os
import threading

import numpy as np
import pytest

import ringwire

TICK = np.dtype([("seq", "<u8"), ("check", "<u8")])


def test_info_of_every_kind(segname):
    pid = os.getpid()
    cases = [
        (ringwire.Segment.create_spsc(segname(), 128, TICK, type_tag=11), ringwire.Kind.SPSC, 128, 16, 11, 0),
        (ringwire.Segment.create_mpsc(segname(), 64, 3, TICK, type_tag=12), ringwire.Kind.MPSC, 64, 16, 12, 3),
        (ringwire.Segment.create_broadcast(segname(), 32, 5, np.dtype("V24"), type_tag=13, policy="lossless"),
         ringwire.Kind.BROADCAST, 32, 24, 13, 5),
    ]
    for seg, kind, capacity, elem, tag, endpoints in cases:
        with seg, ringwire.Segment.open(seg.name) as again:
            for i in (seg.info, again.info):
                assert (i.kind, i.capacity, i.elem_size, i.elem_align, i.type_tag) == (kind, capacity, elem, 8, tag)
                assert i.creator_pid == pid and i.name == seg.name
                if endpoints:
                    assert i.endpoints == endpoints
            assert again.kind == kind and again.dtype.itemsize == elem
            assert again.reap() == 0
            assert len(again.counters()) > 0
    with ringwire.Segment.create_broadcast(segname(), 16, 2, TICK, policy="evict") as seg:
        assert seg.info.policy == ringwire.Policy.EVICT
    with ringwire.Segment.create_byte_broadcast(segname(), 64, 1 << 16, 4096, 3) as seg:
        i = seg.info
        assert (i.kind, i.depth, i.region_bytes, i.max_message, i.max_credited) == (
            ringwire.Kind.BYTE_BROADCAST, 64, 1 << 16, 4096, 3)
    with ringwire.Segment.create_byte_ring(segname(), 1 << 16) as seg:
        assert (seg.info.kind, seg.info.capacity) == (ringwire.Kind.BYTE_RING, 1 << 16)


def test_unlink_and_names(segname):
    name = segname()
    seg = ringwire.Segment.create_spsc(name, 8, TICK)
    assert ringwire.unlink(name) is True
    assert ringwire.Segment.unlink(name) is False
    with pytest.raises(ringwire.Error) as e:
        ringwire.Segment.open(name)
    assert e.value.errc == ringwire.Errc.SHM_NOT_FOUND
    # the mapping lives on after the name is gone
    with seg.sender() as tx, seg.receiver() as rx:
        tx.send((1, 2))
        assert tuple(rx.try_recv()) == (1, 2)
    seg.close()
    assert seg.closed and "closed" in repr(seg)
    with pytest.raises(ValueError):
        ringwire.Segment.open("/with\0nul")
    with pytest.raises(ringwire.Error):
        ringwire.Segment.open("no-leading-slash/and/slashes")


def test_counters_follow_the_traffic(segname):
    with ringwire.Segment.create_broadcast(segname(), 16, 2, TICK) as seg, seg.publisher() as p, seg.subscriber() as s:
        for n in range(5):
            p.send((n, n))
        for _ in range(3):
            s.try_recv()
        c = {(x.role, x.index, x.key): x.value for x in seg.counters()}
        assert c[(None, 0, "published")] == 5
        assert c[("claims", 0, "subscriber")] == 1
        assert ("subscriber", 0, "lag") in c  # a lossy subscriber shows its counts only with metrics on
        assert s.received == 3


def test_error_class():
    e = ringwire.Error(ringwire.Errc.SHM_EXISTS, "it is there")
    assert isinstance(e, Exception) and e.errc == 11 and e.message == "it is there"
    assert str(e) == "it is there [SHM_EXISTS]"
    assert issubclass(ringwire.Closed, EOFError) and issubclass(ringwire.TooSmall, BufferError)
    assert ringwire.Lagged(3) == ringwire.Lagged(3) != ringwire.Lagged(3, corrupt=True)
    assert repr(ringwire.Lagged(3)) == "Lagged(missed=3)"
    assert ringwire.Status.LAGGED == 6 and ringwire.Status(2).name == "EMPTY"
    assert ringwire.Errc.INVALID_ARGUMENT == 1000 and ringwire.MAX_ELEM_SIZE == 256


def test_one_endpoint_shared_by_threads_is_serialised(segname):
    # Two threads read from one reader handle (not a pattern to copy, but never a crash):
    # every message is delivered once.
    with ringwire.Segment.create_byte_broadcast(segname(), 256, 1 << 16, 64, 1) as seg:
        w, r = seg.writer(), seg.reader(credited=True)
        seen = [[], []]

        def read(k):
            try:
                for m in r:
                    seen[k].append(int.from_bytes(m, "little"))
            except ringwire.Error:
                pass

        threads = [threading.Thread(target=read, args=(k,)) for k in (0, 1)]
        for t in threads:
            t.start()
        for n in range(20000):
            w.write(n.to_bytes(4, "little"))
        w.close()
        for t in threads:
            t.join(30)
        assert sorted(seen[0] + seen[1]) == list(range(20000))
        r.close()


def test_open_fd_joins_the_same_segment(segname):
    """A segment joined through a descriptor is the same channel (here a named one's, opened
    from /dev/shm): what one handle sends, the other receives."""
    name = segname()
    seg = ringwire.Segment.create_spsc(name, 8, TICK, type_tag=77)
    assert seg.fd == -1  # named: no descriptor of its own
    fd = os.open("/dev/shm" + name, os.O_RDWR)
    try:
        other = ringwire.Segment.open_fd(fd, dtype=TICK)
    finally:
        os.close(fd)  # the segment keeps its own duplicate
    assert other.info.kind == seg.info.kind and other.info.capacity == 8
    tx, rx = seg.sender(type_tag=77), other.receiver(type_tag=77)
    assert tx.try_send((5, 6))
    got = rx.try_recv()
    assert int(got["seq"]) == 5 and int(got["check"]) == 6
    with pytest.raises(ringwire.Error) as e:
        ringwire.Segment.open_fd(-1)
    assert e.value.errc == ringwire.Errc.SHM_SYSTEM_ERROR
    for h in (tx, rx, other, seg):
        h.close()
