"""SPSC, MPSC and typed broadcast from Python: numpy records in and out, batches, zero-copy
spans and reservations, lags with exact counts, lossless backpressure, eviction, errors."""
import os
import threading
import time

import numpy as np
import pytest

import ringwire

K = 0x9E3779B97F4A7C15
TICK = np.dtype([("seq", "<u8"), ("check", "<u8")])
WIDE = np.dtype([("seq", "<u8"), ("px", "<f8"), ("qty", "<i4"), ("side", "u1"), ("pad", "V3")])  # 24 bytes


def tick(n):
    return np.array((n, (n * K) & (2**64 - 1)), dtype=TICK)[()]


def check(rec, n):
    assert isinstance(rec, np.void) and rec.dtype == TICK
    assert int(rec["seq"]) == n and int(rec["check"]) == (n * K) & (2**64 - 1)


# ---- SPSC ---------------------------------------------------------------------------------


def test_spsc_every_input_form(segname):
    with ringwire.Segment.create_spsc(segname(), 16, WIDE, type_tag=77) as seg:
        assert seg.dtype == WIDE and seg.info.elem_size == 24 and seg.info.type_tag == 77
        with seg.sender(type_tag=77) as tx, seg.receiver() as rx:
            assert rx.try_recv() is None
            rec = np.array((1, 1.5, -3, 2, b"\0\0\0"), dtype=WIDE)
            assert tx.try_send(rec[()])  # a numpy record
            assert tx.try_send(rec.reshape(1))  # a 1-element array
            assert tx.try_send((2, 2.5, -4, 1, b"\0\0\0"))  # a tuple of fields
            assert tx.try_send(rec.tobytes())  # exactly elem_size bytes
            assert tx.try_send(bytearray(rec.tobytes()))
            got = [rx.try_recv() for _ in range(5)]
            assert [float(g["px"]) for g in got] == [1.5, 1.5, 2.5, 1.5, 1.5]
            assert int(got[2]["qty"]) == -4 and int(got[2]["side"]) == 1
            assert rx.try_recv() is None and rx.received == 5 and tx.sent == 5
            with pytest.raises(ValueError):
                tx.try_send(b"short")
            with pytest.raises(TypeError):
                tx.try_send(np.zeros(1, dtype=TICK))  # another structured dtype
            with pytest.raises(ValueError):
                tx.try_send(np.zeros(2, dtype=WIDE))  # two elements


def test_spsc_scalar_dtype_and_full(segname):
    with ringwire.Segment.create_spsc(segname(), 8, np.uint64) as seg, seg.sender() as tx, seg.receiver() as rx:
        n = 0
        while tx.try_send(n):
            n += 1
        assert n == 8 and tx.last_status == ringwire.Status.FULL
        assert tx.send_for(99, 0.1) is False
        got = [rx.try_recv() for _ in range(8)]
        assert got == list(range(8)) and all(isinstance(g, np.uint64) for g in got)


def test_spsc_batches(segname):
    with ringwire.Segment.create_spsc(segname(), 64, TICK) as seg, seg.sender() as tx, seg.receiver() as rx:
        arr = np.zeros(100, dtype=TICK)
        arr["seq"] = np.arange(1, 101)
        arr["check"] = arr["seq"] * np.uint64(K)
        assert tx.try_send_n(arr) == 64  # as many as fit
        assert len(rx.try_recv_n(0)) == 0
        a = rx.try_recv_n(10)
        assert isinstance(a, np.ndarray) and a.dtype == TICK and list(a["seq"]) == list(range(1, 11))
        assert tx.try_send_n(arr[64:].tobytes()) == 10  # bytes of whole elements
        b = rx.try_recv_n(1000)
        assert list(b["seq"]) == list(range(11, 75))
        assert (b["check"] == b["seq"] * np.uint64(K)).all()
        assert len(rx.try_recv_n(5)) == 0
        with pytest.raises(ValueError):
            tx.try_send_n(b"\0" * 17)
        tx.close()
        with pytest.raises(ringwire.Closed):
            rx.try_recv_n(5)


def test_spsc_read_span_and_release(segname):
    with ringwire.Segment.create_spsc(segname(), 16, TICK) as seg, seg.sender() as tx, seg.receiver() as rx:
        assert len(rx.read_span()) == 0
        for n in range(1, 6):
            tx.send(tick(n))
        span = rx.read_span()
        assert len(span) == 5 and not span.flags.writeable
        assert list(span["seq"]) == [1, 2, 3, 4, 5]
        with pytest.raises(ValueError):
            rx.release(6)
        rx.release(2)
        check(rx.try_recv(), 3)
        span = rx.read_span()
        assert list(span["seq"]) == [4, 5]
        rx.release()
        assert rx.try_recv() is None and rx.received == 5


def test_spsc_reserve_commit(segname):
    with ringwire.Segment.create_spsc(segname(), 8, TICK) as seg, seg.sender() as tx, seg.receiver() as rx:
        slots = tx.reserve(4)
        assert slots is not None and 1 <= len(slots) <= 4 and slots.flags.writeable
        k = len(slots)
        slots["seq"] = np.arange(1, k + 1)
        slots["check"] = slots["seq"] * np.uint64(K)
        with pytest.raises(ringwire.Error):
            tx.try_send(tick(9))  # not while a reservation is open
        tx.commit()
        for n in range(1, k + 1):
            check(rx.try_recv(), n)
        tx.reserve(2)
        tx.commit(0)  # abandoned
        assert rx.try_recv() is None
        with pytest.raises(ringwire.Error):
            tx.commit()


def test_spsc_close_drains_then_closed_and_iteration_ends(segname, after):
    with ringwire.Segment.create_spsc(segname(), 32, TICK) as seg, seg.receiver() as rx:
        tx = seg.sender()

        def produce():
            for n in range(1, 1001):
                tx.send(tick(n))
            tx.close()

        after(0.05, produce)
        n = 0
        for rec in rx:
            n += 1
            check(rec, n)
        assert n == 1000
        with pytest.raises(ringwire.Closed):
            rx.try_recv()


def test_typed_errors(segname):
    with pytest.raises(ringwire.Error) as e:
        ringwire.Segment.create_spsc(segname(), 16, np.dtype([("a", "<u4"), ("b", "<u8")], align=False))  # 12 bytes
    assert e.value.errc == ringwire.Errc.INVALID_OPTIONS
    with pytest.raises(ringwire.Error) as e:
        ringwire.Segment.create_spsc(segname(), 16, np.dtype("V264"))
    assert e.value.errc == ringwire.Errc.INVALID_OPTIONS
    with ringwire.Segment.create_spsc(segname(), 16, TICK, type_tag=5) as seg:
        with pytest.raises(ringwire.Error) as e:
            seg.sender(dtype=WIDE)
        assert e.value.errc == ringwire.Errc.SHM_TYPE_MISMATCH
        with pytest.raises(ringwire.Error) as e:
            seg.receiver(type_tag=6)
        assert e.value.errc == ringwire.Errc.SHM_TYPE_MISMATCH
        with pytest.raises(ringwire.Error) as e:
            seg.writer()
        assert e.value.errc == ringwire.Errc.SHM_KIND_MISMATCH
        with pytest.raises(ringwire.Error) as e:
            seg.publisher()
        assert e.value.errc == ringwire.Errc.SHM_KIND_MISMATCH
        tx = seg.sender()
        with pytest.raises(ringwire.Error) as e:
            seg.sender()
        assert e.value.errc == ringwire.Errc.SHM_ALREADY_ATTACHED
        tx.close()
        for call in (lambda: tx.try_send(tick(1)), lambda: tx.reserve(1), lambda: tx.try_send_n(np.zeros(1, TICK))):
            with pytest.raises(ringwire.Error) as e:
                call()
            assert e.value.errc == ringwire.Errc.INVALID_ARGUMENT
        with ringwire.Segment.open(seg.name) as raw:
            assert raw.dtype == np.dtype("V16")  # no dtype given: raw records
            with raw.receiver() as rx, seg.sender() as tx2:
                tx2.send(tick(3))
                assert rx.try_recv().tobytes() == tick(3).tobytes()
        with ringwire.Segment.open(seg.name, dtype=TICK) as typed:
            assert typed.dtype == TICK
        with pytest.raises(ringwire.Error):
            ringwire.Segment.open(seg.name, dtype=WIDE)


# ---- MPSC ---------------------------------------------------------------------------------


def test_mpsc_lanes_fifo_and_close_producers(segname):
    with ringwire.Segment.create_mpsc(segname(), 64, 4, TICK) as seg:
        assert seg.info.endpoints == 4 and seg.info.capacity == 64
        rx = seg.receiver()
        senders = [seg.sender() for _ in range(3)]

        def produce(k, tx):
            for n in range(1, 301):
                tx.send(tick(k * 1000 + n))

        threads = [threading.Thread(target=produce, args=(k, tx)) for k, tx in enumerate(senders)]
        for t in threads:
            t.start()
        last = {0: 0, 1: 0, 2: 0}
        got = 0
        while got < 900:
            batch = rx.recv_n_for(50, 5.0)
            assert len(batch) > 0
            for rec in batch:
                k, n = divmod(int(rec["seq"]), 1000)
                assert n == last[k] + 1  # FIFO per lane
                assert int(rec["check"]) == (int(rec["seq"]) * K) & (2**64 - 1)
                last[k] = n
                got += 1
        for t in threads:
            t.join()
        assert last == {0: 300, 1: 300, 2: 300}
        # Senders leaving do not end the stream (producers come and go) ...
        for tx in senders:
            tx.close()
        assert rx.recv_for(0.1) is None
        # ... close_producers does, once every lane is drained and free.
        assert seg.close_producers()
        with pytest.raises(ringwire.Closed):
            rx.recv_for(1.0)
        with pytest.raises(ringwire.Error) as e:
            seg.sender()
        assert e.value.errc == ringwire.Errc.INVALID_OPTIONS
        rx.close()


# ---- broadcast ----------------------------------------------------------------------------


def test_broadcast_lossy_lag_exact(segname):
    with ringwire.Segment.create_broadcast(segname(), 8, 4, TICK, policy="lossy") as seg:
        assert seg.info.policy == ringwire.Policy.LOSSY
        with seg.publisher() as p, seg.subscriber() as s, seg.subscriber() as s2:
            for n in range(1, 41):
                p.send(tick(n))
            expected = 1
            for item in iter(s.try_recv, None):  # until empty
                if isinstance(item, ringwire.Lagged):
                    expected += item.missed
                else:
                    check(item, expected)
                    expected += 1
            assert expected == 41 and s.missed + s.received == 40 and s.missed >= 32
            # the batch path: a lag first is the result; the rest as an array
            first = s2.try_recv_n(100)
            assert first == ringwire.Lagged(s.missed)
            rest = s2.try_recv_n(100)
            assert list(rest["seq"]) == list(range(41 - s.received, 41))
            assert s2.missed == s.missed


def test_broadcast_lag_inside_a_batch_is_the_next_result(segname):
    with ringwire.Segment.create_broadcast(segname(), 8, 2, TICK) as seg, seg.publisher() as p, seg.subscriber() as s:
        p.send(tick(1))
        p.send(tick(2))
        first = s.try_recv_n(1)
        assert list(first["seq"]) == [1]
        for n in range(3, 30):
            p.send(tick(n))
        # 27 more published into 8 slots: a lag, then what is left (in batches of 4)
        results = []
        while True:
            r = s.try_recv_n(4)
            if isinstance(r, ringwire.Lagged):
                results.append(r)
            elif len(r) == 0:
                break
            else:
                results.extend(int(x) for x in r["seq"])
        lags = [r.missed for r in results if isinstance(r, ringwire.Lagged)]
        seqs = [r for r in results if not isinstance(r, ringwire.Lagged)]
        assert sum(lags) + len(seqs) == 28 and seqs[-1] == 29 and seqs == list(range(seqs[0], 30))
        assert s.missed == sum(lags)


def test_broadcast_lossless_backpressure(segname, after):
    with ringwire.Segment.create_broadcast(segname(), 8, 2, TICK, policy=ringwire.Policy.LOSSLESS) as seg:
        with seg.publisher() as p, seg.subscriber() as s:
            n = 0
            while p.try_send(tick(n + 1)):
                n += 1
                assert n <= 8
            assert n == 8
            after(0.2, lambda: s.recv_for(1.0))
            t0 = time.monotonic()
            assert p.send_for(tick(9), 5.0)
            assert time.monotonic() - t0 > 0.1  # it waited; no upper bound (the call's timeout bounds it)
            for k in range(2, 10):
                check(s.recv_for(1.0), k)
            assert s.missed == 0


def test_broadcast_evict(segname):
    with ringwire.Segment.create_broadcast(segname(), 8, 2, TICK, policy="evict") as seg:
        with seg.publisher() as p, seg.subscriber() as s:
            for n in range(1, 30):
                assert p.try_send(tick(n))  # never waits
            with pytest.raises(ringwire.Evicted):
                s.try_recv()
            with pytest.raises(ringwire.Evicted):
                list(s)  # iteration does not end quietly on an eviction


def test_broadcast_gil_released_in_recv_for(segname, after):
    with ringwire.Segment.create_broadcast(segname(), 64, 2, TICK) as seg, seg.publisher() as p, seg.subscriber() as s:
        after(0.3, lambda: p.send(tick(7)))
        check(s.recv_for(10.0), 7)
        after(0.1, p.close)
        assert list(s) == []


def test_broadcast_policy_argument(segname):
    with pytest.raises(ValueError):
        ringwire.Segment.create_broadcast(segname(), 8, 2, TICK, policy="sometimes")
    with pytest.raises(ringwire.Error) as e:
        ringwire.Segment.create_broadcast(segname(), 8, 2, TICK, policy=7)
    assert e.value.errc == ringwire.Errc.INVALID_OPTIONS


# ---- element dtypes, zero-copy lifetimes, counters ------------------------------------------

OBJECT_DTYPES = [
    np.dtype([("p", "O")]),  # 8 bytes: would pass the size check
    np.dtype("O"),
    np.dtype([("seq", "<u8"), ("p", "O")]),
    np.dtype([("inner", [("seq", "<u8"), ("p", "O")])]),
    np.dtype([("ps", "O", (2,))]),
]


@pytest.mark.parametrize("dt", OBJECT_DTYPES, ids=str)
def test_dtypes_holding_python_objects_are_refused(segname, dt):
    # Elements come from memory another process writes: numpy would take their bytes as
    # PyObject pointers. Refused at create, at open(dtype=) and at every endpoint's attach.
    for create in (
        lambda: ringwire.Segment.create_spsc(segname(), 16, dt),
        lambda: ringwire.Segment.create_mpsc(segname(), 16, 2, dt),
        lambda: ringwire.Segment.create_broadcast(segname(), 16, 2, dt),
    ):
        with pytest.raises(ringwire.Error) as e:
            create()
        assert e.value.errc == ringwire.Errc.INVALID_OPTIONS
    raw = np.dtype(f"V{dt.itemsize}")
    with ringwire.Segment.create_spsc(segname(), 16, raw) as seg:
        with pytest.raises(ringwire.Error) as e:
            ringwire.Segment.open(seg.name, dtype=dt)
        assert e.value.errc == ringwire.Errc.INVALID_OPTIONS
        for attach in (seg.sender, seg.receiver):
            with pytest.raises(ringwire.Error) as e:
                attach(dtype=dt)
            assert e.value.errc == ringwire.Errc.INVALID_OPTIONS
    with ringwire.Segment.create_broadcast(segname(), 16, 2, raw) as seg:
        for attach in (seg.publisher, seg.subscriber):
            with pytest.raises(ringwire.Error) as e:
                attach(dtype=dt)
            assert e.value.errc == ringwire.Errc.INVALID_OPTIONS


def test_subarray_dtypes_are_refused_and_batches_count_elements(segname):
    sub = np.dtype("(2,)<i4")  # itemsize 8, but numpy makes arrays of it int32 with a dimension more
    assert sub.itemsize == 8 and sub.subdtype is not None
    with pytest.raises(ringwire.Error) as e:
        ringwire.Segment.create_spsc(segname(), 16, sub)
    assert e.value.errc == ringwire.Errc.INVALID_OPTIONS
    with ringwire.Segment.create_spsc(segname(), 16, np.dtype("V8")) as seg:
        with pytest.raises(ringwire.Error) as e:
            ringwire.Segment.open(seg.name, dtype=sub)
        assert e.value.errc == ringwire.Errc.INVALID_OPTIONS
        with pytest.raises(ringwire.Error) as e:
            seg.sender(dtype=sub)
        assert e.value.errc == ringwire.Errc.INVALID_OPTIONS
    # The same layout as a structured dtype's field: batches count records.
    pair = np.dtype([("v", "<i4", (2,))])
    with ringwire.Segment.create_spsc(segname(), 16, pair) as seg, seg.sender() as tx, seg.receiver() as rx:
        arr = np.zeros(3, dtype=pair)
        arr["v"] = [[1, 2], [3, 4], [5, 6]]
        assert tx.try_send_n(arr) == 3 and tx.sent == 3
        got = rx.try_recv_n(10)
        assert got["v"].tolist() == [[1, 2], [3, 4], [5, 6]]
        assert len(rx.try_recv_n(10)) == 0
    # A scalar dtype: a 2-D array is its elements, all of them.
    with ringwire.Segment.create_spsc(segname(), 16, np.uint64) as seg, seg.sender() as tx, seg.receiver() as rx:
        assert tx.try_send_n(np.arange(6, dtype=np.uint64).reshape(2, 3)) == 6
        assert list(rx.try_recv_n(10)) == list(range(6))


def test_spsc_reserved_array_is_not_writable_after_commit(segname):
    with ringwire.Segment.create_spsc(segname(), 8, TICK) as seg, seg.sender() as tx, seg.receiver() as rx:
        slots = tx.reserve(4)
        k = len(slots)
        seq = slots["seq"]  # a numpy view of the reserved array
        seq[:] = np.arange(1, k + 1)
        slots["check"] = slots["seq"] * np.uint64(K)
        with pytest.raises(BufferError):
            tx.commit()  # seq would stay writable over the receiver's slots
        assert rx.try_recv() is None  # nothing published, the reservation is open
        with pytest.raises(ringwire.Error):
            tx.try_send(tick(9))
        head = slots[:1].view(np.uint8)  # views of views count too
        del seq
        with pytest.raises(BufferError):
            tx.commit()
        del head
        tx.commit()
        assert tx.sent == k
        # The array handed out is read-only for good, and so is every view made from it now.
        assert not slots.flags.writeable
        with pytest.raises(ValueError):
            slots[0] = tick(99)
        with pytest.raises(ValueError):
            slots["seq"][0] = 99
        with pytest.raises(ValueError):
            slots.flags.writeable = True
        exporter = slots.base.base
        for export in (memoryview, lambda o: np.frombuffer(o, dtype=np.uint8)):
            with pytest.raises(BufferError):
                export(exporter)  # revoked: no new view of the slots
        for n in range(1, k + 1):
            check(rx.try_recv(), n)
        # commit(0) abandons: the same
        slots = tx.reserve(2)
        tx.commit(0)
        assert not slots.flags.writeable
        # close() abandons an open reservation and ends its array
        slots = tx.reserve(2)
        tx.close()
        assert not slots.flags.writeable
        with pytest.raises(ValueError):
            slots[0] = tick(1)
        with pytest.raises(ringwire.Closed):
            rx.try_recv()  # nothing was published


def test_spsc_release_after_a_receive_frees_nothing(segname):
    # Every receive ends the last read_span: a release(k) after it must not count (or free)
    # elements the receive already delivered.
    with ringwire.Segment.create_spsc(segname(), 16, TICK) as seg, seg.sender() as tx, seg.receiver() as rx:
        for n in range(1, 9):
            tx.send(tick(n))
        receives = [rx.try_recv, lambda: rx.recv_for(1.0), lambda: rx.try_recv_n(1)[0], lambda: rx.recv_n_for(1, 1.0)[0]]
        expected = 1
        for receive in receives:
            span = rx.read_span()
            assert len(span) == 9 - expected and int(span["seq"][0]) == expected
            check(receive(), expected)
            expected += 1
            before = rx.received
            with pytest.raises(ValueError):
                rx.release(2)
            rx.release()  # the span has ended: nothing
            assert rx.received == before == expected - 1
        rest = rx.try_recv_n(100)
        assert list(rest["seq"]) == list(range(expected, 9))  # none delivered twice, none lost
        assert rx.received == 8 and rx.try_recv() is None


def test_broadcast_policy_out_of_range(segname):
    for bad in (-1, 2**32, 2**70):
        with pytest.raises(ringwire.Error) as e:
            ringwire.Segment.create_broadcast(segname(), 8, 2, TICK, policy=bad)
        assert e.value.errc == ringwire.Errc.INVALID_OPTIONS
    with pytest.raises(TypeError):
        ringwire.Segment.create_broadcast(segname(), 8, 2, TICK, policy=1.5)
    with ringwire.Segment.create_broadcast(segname(), 8, 2, TICK, policy=ringwire.Policy.EVICT) as seg:
        assert seg.info.policy == ringwire.Policy.EVICT


def test_close_from_another_thread_ends_a_blocked_spsc_recv(segname, after):
    with ringwire.Segment.create_spsc(segname(), 8, TICK) as seg, seg.sender():
        rx = seg.receiver()
        after(0.2, rx.close)
        with pytest.raises(ringwire.Error) as e:
            rx.recv()  # forever
        assert e.value.errc == ringwire.Errc.INVALID_ARGUMENT
        assert rx.closed


def test_spsc_try_send_n_counts_every_element_sent(segname):
    # A receiver in another process drains while try_send_n fills: whichever path a call
    # takes (a batch, or on a full ring one try_send and then a batch of the rest), .sent
    # is the sum of what the calls returned, and the receiver gets exactly those, in order.
    total_n = 100_000
    with ringwire.Segment.create_spsc(segname(), 64, np.uint64) as seg, seg.sender() as tx:
        pid = os.fork()
        if pid == 0:  # the receiver
            code = 3
            try:
                with ringwire.Segment.open(seg.name, dtype=np.uint64) as s2, s2.receiver() as rx:
                    expect = 0
                    while expect < total_n:
                        a = rx.recv_n_for(16, 10.0)
                        if len(a) == 0 or not (a == np.arange(expect, expect + len(a), dtype=np.uint64)).all():
                            break
                        expect += len(a)
                    code = 0 if expect == total_n else 2
            finally:
                os._exit(code)
        data = np.arange(total_n, dtype=np.uint64)
        total, miscounted = 0, []
        try:
            deadline = time.monotonic() + 60
            while total < total_n and time.monotonic() < deadline:
                total += tx.try_send_n(data[total:])
                if tx.sent != total:
                    miscounted.append((tx.sent, total))
                    break
        finally:
            if total < total_n:
                tx.close()  # the receiver sees Closed and exits
            _, status = os.waitpid(pid, 0)
        assert not miscounted
        assert total == total_n and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
