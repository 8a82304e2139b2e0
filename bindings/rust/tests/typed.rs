// The typed kinds (SPSC, MPSC, broadcast) through the Rust crate: every element verified,
// zero-copy paths, exact lag counts, backpressure, policies, threads, and the type checks.
mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{Elem, Name, SEC};
use ringwire::{
    BcPolicy, BcPublisher, BcSubscriber, Errc, Kind, MpscReceiver, MpscSender, Pod, Recv, Reserve, Segment, SendStatus,
    SpscReceiver, SpscSender,
};

const SHORT: Duration = Duration::from_millis(5);

// ---- SPSC ---------------------------------------------------------------------------------

#[test]
fn spsc_round_trip_full_and_closed() {
    let name = Name::new("spsc-rt");
    let seg = Segment::create_spsc::<Elem>(name.as_str(), 64).unwrap();
    let info = seg.info().unwrap();
    assert_eq!((info.kind, info.elem_size, info.elem_align), (Kind::Spsc, 16, 8));
    assert_eq!(info.creator_pid, std::process::id());
    assert!(info.capacity >= 64, "{:?}", info);
    let mut tx = SpscSender::<Elem>::attach(&seg).unwrap();
    let mut rx = SpscReceiver::<Elem>::attach(&seg).unwrap();
    assert_eq!(rx.try_recv().unwrap(), Recv::Empty);
    assert_eq!(rx.recv_for(SHORT).unwrap(), Recv::TimedOut);
    let mut sent = 0u64;
    while tx.try_send(Elem::new(sent)).unwrap() == SendStatus::Sent {
        sent += 1;
        assert!(sent <= 10_000, "never full");
    }
    assert_eq!(sent, info.capacity);
    assert_eq!(tx.send_for(Elem::new(sent), SHORT).unwrap(), SendStatus::TimedOut);
    for i in 0..sent {
        assert_eq!(rx.try_recv().unwrap(), Recv::Msg(Elem::new(i)));
    }
    assert_eq!(rx.try_recv().unwrap(), Recv::Empty);
    drop(tx);
    assert_eq!(rx.try_recv().unwrap(), Recv::Closed);
    assert_eq!(rx.recv_for(SHORT).unwrap(), Recv::Closed);
}

#[test]
fn spsc_slices() {
    let name = Name::new("spsc-slice");
    let seg = Segment::create_spsc::<Elem>(name.as_str(), 32).unwrap();
    let cap = seg.info().unwrap().capacity as usize;
    let mut tx = SpscSender::<Elem>::attach(&seg).unwrap();
    let mut rx = SpscReceiver::<Elem>::attach(&seg).unwrap();
    let all: Vec<Elem> = (0..(cap as u64 + 10)).map(Elem::new).collect();
    assert_eq!(tx.try_send_slice(&all), cap); // as many as there is room for
    let mut out = vec![Elem::new(999); 10];
    assert_eq!(rx.try_recv_slice(&mut out), 10);
    assert_eq!(&out[..], &all[..10]);
    assert_eq!(tx.try_send_slice(&all[cap..]), 10);
    let mut rest = vec![Elem::new(0); cap + 5];
    assert_eq!(rx.try_recv_slice(&mut rest), cap);
    assert_eq!(&rest[..cap], &all[10..]);
    assert_eq!(rx.try_recv_slice(&mut rest), 0);
}

#[test]
fn spsc_zero_copy() {
    let name = Name::new("spsc-zc");
    let seg = Segment::create_spsc::<Elem>(name.as_str(), 16).unwrap();
    let cap = seg.info().unwrap().capacity as usize;
    let mut tx = SpscSender::<Elem>::attach(&seg).unwrap();
    let mut rx = SpscReceiver::<Elem>::attach(&seg).unwrap();

    // Reserve 5, fill, commit 3.
    match tx.reserve(5).unwrap() {
        Reserve::Granted(mut slots) => {
            assert_eq!(slots.len(), 5);
            for (i, s) in slots.iter_mut().enumerate() {
                *s = Elem::new(i as u64);
            }
            slots.commit(3).unwrap();
        }
        _ => panic!("no room in an empty ring"),
    }
    // Dropping a reservation commits nothing.
    {
        let mut slots = tx.reserve(4).unwrap().granted().expect("room");
        slots[0] = Elem::new(777);
    }
    // commit(k) beyond the reservation is refused (and the reservation abandoned).
    let slots = tx.reserve(2).unwrap().granted().expect("room");
    assert_eq!(slots.commit(3).unwrap_err().code(), Errc::InvalidArgument);

    // The receiver sees exactly 0, 1, 2 in place; release 2 of them, the third stays.
    match rx.read_span().unwrap() {
        Recv::Msg(span) => {
            assert_eq!(&span[..], &[Elem::new(0), Elem::new(1), Elem::new(2)]);
            span.release(2);
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    {
        let span = rx.read_span().unwrap().msg().expect("the third");
        assert_eq!(&span[..], &[Elem::new(2)]);
        // dropped: consumed
    }
    assert!(matches!(rx.read_span().unwrap(), Recv::Empty));

    // Fill the ring through reservations (a run may stop at the wrap: reserve again).
    let mut next = 3u64;
    let mut total = 0usize;
    while total < cap {
        match tx.reserve(cap).unwrap() {
            Reserve::Granted(mut slots) => {
                let n = slots.len();
                for s in slots.iter_mut() {
                    *s = Elem::new(next);
                    next += 1;
                }
                slots.commit_all().unwrap();
                total += n;
            }
            Reserve::Full => panic!("full after {} of {}", total, cap),
            Reserve::Closed => panic!("closed"),
        }
    }
    assert!(matches!(tx.reserve(1).unwrap(), Reserve::Full));
    let mut want = 3u64;
    while want < next {
        let span = rx.read_span().unwrap().msg().expect("queued");
        for e in span.iter() {
            assert_eq!(*e, Elem::new(want));
            want += 1;
        }
    }
    // A forgotten reservation guard is abandoned before the next send (nothing published).
    let slots = tx.reserve(2).unwrap().granted().expect("room");
    std::mem::forget(slots);
    assert_eq!(tx.try_send(Elem::new(5000)).unwrap(), SendStatus::Sent);
    let slots = tx.reserve(1).unwrap().granted().expect("room");
    std::mem::forget(slots);
    assert!(tx.reserve(1).unwrap().granted().is_some());
    assert_eq!(rx.try_recv().unwrap(), Recv::Msg(Elem::new(5000)));
    assert_eq!(rx.try_recv().unwrap(), Recv::Empty);
    // A forgotten span is not consumed: read again.
    assert_eq!(tx.try_send(Elem::new(5001)).unwrap(), SendStatus::Sent);
    std::mem::forget(rx.read_span().unwrap().msg().expect("queued"));
    assert_eq!(&rx.read_span().unwrap().msg().expect("again")[..], &[Elem::new(5001)]);
    drop(tx);
    assert!(matches!(rx.read_span().unwrap(), Recv::Closed));
}

#[test]
fn spsc_two_threads() {
    let name = Name::new("spsc-threads");
    let seg = Segment::create_spsc::<Elem>(name.as_str(), 256).unwrap();
    let mut tx = SpscSender::<Elem>::attach(&seg).unwrap();
    let mut rx = SpscReceiver::<Elem>::attach(&seg).unwrap();
    const N: u64 = 200_000;
    let t = std::thread::spawn(move || {
        for i in 0..N {
            assert_eq!(tx.send_for(Elem::new(i), SEC).unwrap(), SendStatus::Sent);
        }
    });
    let mut i = 0u64;
    loop {
        match rx.recv_for(SEC).unwrap() {
            Recv::Msg(e) => {
                assert_eq!(e, Elem::new(i));
                i += 1;
            }
            Recv::Closed => break,
            other => panic!("after {}: {:?}", i, other),
        }
    }
    t.join().unwrap();
    assert_eq!(i, N);
}

// ---- MPSC ---------------------------------------------------------------------------------

#[test]
fn mpsc_lanes_fifo_and_close() {
    let name = Name::new("mpsc");
    let seg = Segment::create_mpsc::<Elem>(name.as_str(), 64, 3).unwrap();
    let info = seg.info().unwrap();
    assert_eq!((info.kind, info.endpoints, info.elem_size), (Kind::Mpsc, 3, 16));
    let mut rx = MpscReceiver::<Elem>::attach(&seg).unwrap();
    assert_eq!(rx.try_recv().unwrap(), Recv::Empty);
    const N: u64 = 50_000;
    let mut senders: Vec<_> = (0..3).map(|_| MpscSender::<Elem>::attach(&seg).unwrap()).collect();
    let e = MpscSender::<Elem>::attach(&seg).err().expect("max_producers is 3");
    assert_eq!(e.code(), Errc::TooManyProducers, "{}", e);
    let threads: Vec<_> = senders
        .drain(..)
        .enumerate()
        .map(|(p, mut tx)| {
            std::thread::spawn(move || {
                for i in 0..N {
                    // seq: the producer in the top byte, the count below.
                    let seq = ((p as u64) << 56) | i;
                    assert_eq!(tx.send_for(Elem::new(seq), SEC).unwrap(), SendStatus::Sent);
                }
            })
        })
        .collect();
    let mut next: HashMap<u64, u64> = HashMap::new();
    let mut got = 0u64;
    while got < 3 * N {
        match rx.recv_for(SEC).unwrap() {
            Recv::Msg(e) => {
                assert_eq!(e.check, e.seq.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let (p, i) = (e.seq >> 56, e.seq & ((1 << 56) - 1));
                let n = next.entry(p).or_insert(0);
                assert_eq!(i, *n, "lane {} out of order", p);
                *n += 1;
                got += 1;
            }
            other => panic!("after {}: {:?}", got, other),
        }
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(rx.try_recv().unwrap(), Recv::Empty);
    assert!(seg.close_producers().unwrap());
    assert_eq!(rx.try_recv().unwrap(), Recv::Closed);
    assert_eq!(rx.recv_for(SHORT).unwrap(), Recv::Closed);
}

#[test]
fn mpsc_drains_before_closed() {
    let name = Name::new("mpsc-drain");
    let seg = Segment::create_mpsc::<u64>(name.as_str(), 8, 1).unwrap();
    let mut rx = MpscReceiver::<u64>::attach(&seg).unwrap();
    let mut tx = MpscSender::<u64>::attach(&seg).unwrap();
    let cap = seg.info().unwrap().capacity;
    for i in 0..cap {
        assert_eq!(tx.try_send(i * 3).unwrap(), SendStatus::Sent);
    }
    assert_eq!(tx.try_send(0).unwrap(), SendStatus::Full);
    assert!(seg.close_producers().unwrap());
    assert!(!seg.close_producers().unwrap()); // once
                                              // No lane may attach any more.
    assert_eq!(MpscSender::<u64>::attach(&seg).err().unwrap().code(), Errc::InvalidOptions);
    for i in 0..cap {
        assert_eq!(rx.try_recv().unwrap(), Recv::Msg(i * 3));
    }
    // Drained, but the sender's lane is still held: the stream ends when it detaches.
    assert_eq!(rx.try_recv().unwrap(), Recv::Empty);
    drop(tx);
    assert_eq!(rx.try_recv().unwrap(), Recv::Closed);
}

// ---- broadcast ----------------------------------------------------------------------------

#[test]
fn broadcast_lossy_lag_is_exact() {
    let name = Name::new("bc-lossy");
    let seg = Segment::create_broadcast::<Elem>(name.as_str(), 64, 4, BcPolicy::Lossy).unwrap();
    let info = seg.info().unwrap();
    assert_eq!((info.kind, info.endpoints), (Kind::Broadcast, 4));
    assert_eq!(BcPolicy::from_raw(info.policy), Some(BcPolicy::Lossy));
    let mut p = BcPublisher::<Elem>::attach(&seg).unwrap();
    let mut early = BcSubscriber::<Elem>::attach(&seg).unwrap();
    let mut slow = BcSubscriber::<Elem>::attach(&seg).unwrap();
    assert_eq!(early.try_recv().unwrap(), Recv::Empty);
    // `early` keeps up with the first 10; then 10 rings go by.
    for i in 0..10 {
        assert_eq!(p.try_send(Elem::new(i)).unwrap(), SendStatus::Sent);
        assert_eq!(early.try_recv().unwrap(), Recv::Msg(Elem::new(i)));
    }
    let total = 10 + 10 * info.capacity;
    for i in 10..total {
        assert_eq!(p.try_send(Elem::new(i)).unwrap(), SendStatus::Sent); // lossy: never Full
    }
    for (sub, first) in [(&mut early, 10u64), (&mut slow, 0u64)] {
        let (mut got, mut lost, mut next) = (0u64, 0u64, first);
        loop {
            match sub.try_recv().unwrap() {
                Recv::Msg(e) => {
                    assert_eq!(e, Elem::new(next), "a gap not reported as a lag");
                    next += 1;
                    got += 1;
                }
                Recv::Lagged(n) => {
                    assert!(n > 0);
                    lost += n;
                    next += n;
                }
                Recv::Empty => break,
                other => panic!("{:?}", other),
            }
        }
        assert!(lost > 0);
        assert_eq!(first + got + lost, total, "got {} lost {}", got, lost);
    }
    drop(p);
    assert_eq!(slow.try_recv().unwrap(), Recv::Closed);
}

#[test]
fn broadcast_lossless_backpressure() {
    let name = Name::new("bc-lossless");
    let seg = Segment::create_broadcast::<Elem>(name.as_str(), 32, 2, BcPolicy::Lossless).unwrap();
    let cap = seg.info().unwrap().capacity;
    let mut p = BcPublisher::<Elem>::attach(&seg).unwrap();
    let mut a = BcSubscriber::<Elem>::attach(&seg).unwrap();
    let mut b = BcSubscriber::<Elem>::attach(&seg).unwrap();
    let mut sent = 0u64;
    while p.try_send(Elem::new(sent)).unwrap() == SendStatus::Sent {
        sent += 1;
        assert!(sent <= 10 * cap, "never held back");
    }
    assert_eq!(sent, cap);
    assert_eq!(p.send_for(Elem::new(sent), SHORT).unwrap(), SendStatus::TimedOut);
    for i in 0..sent {
        assert_eq!(a.try_recv().unwrap(), Recv::Msg(Elem::new(i)));
    }
    // b is still a ring behind: still full.
    assert_eq!(p.try_send(Elem::new(sent)).unwrap(), SendStatus::Full);
    for i in 0..sent {
        assert_eq!(b.try_recv().unwrap(), Recv::Msg(Elem::new(i)));
    }
    assert_eq!(p.try_send(Elem::new(sent)).unwrap(), SendStatus::Sent);
    assert_eq!(a.try_recv().unwrap(), Recv::Msg(Elem::new(sent)));
    assert_eq!(b.recv_for(SEC).unwrap(), Recv::Msg(Elem::new(sent)));
    let e = BcSubscriber::<Elem>::attach(&seg).err().expect("max_subscribers is 2");
    assert_eq!(e.code(), Errc::TooManySubscribers, "{}", e);
}

#[test]
fn broadcast_evict() {
    let name = Name::new("bc-evict");
    let seg = Segment::create_broadcast::<Elem>(name.as_str(), 16, 2, BcPolicy::Evict).unwrap();
    let cap = seg.info().unwrap().capacity;
    let mut p = BcPublisher::<Elem>::attach(&seg).unwrap();
    let mut s = BcSubscriber::<Elem>::attach(&seg).unwrap();
    for i in 0..4 * cap {
        let st = p.send_for(Elem::new(i), SEC).unwrap();
        assert_eq!(st, SendStatus::Sent, "message {}", i);
    }
    let mut saw_evicted = false;
    for _ in 0..(4 * cap + 2) {
        match s.try_recv().unwrap() {
            Recv::Evicted => {
                saw_evicted = true;
                break;
            }
            Recv::Msg(_) | Recv::Lagged(_) => {}
            other => panic!("{:?}", other),
        }
    }
    assert!(saw_evicted, "a subscriber 4 rings behind under the evict policy");
}

#[test]
fn broadcast_two_threads_lossless() {
    let name = Name::new("bc-threads");
    let seg = Segment::create_broadcast::<Elem>(name.as_str(), 128, 2, BcPolicy::Lossless).unwrap();
    let mut subs: Vec<_> = (0..2).map(|_| BcSubscriber::<Elem>::attach(&seg).unwrap()).collect();
    let mut p = BcPublisher::<Elem>::attach(&seg).unwrap();
    const N: u64 = 100_000;
    let readers: Vec<_> = subs
        .drain(..)
        .map(|mut s| {
            std::thread::spawn(move || {
                let mut i = 0u64;
                loop {
                    match s.recv_for(SEC).unwrap() {
                        Recv::Msg(e) => {
                            assert_eq!(e, Elem::new(i));
                            i += 1;
                        }
                        Recv::Closed => return i,
                        other => panic!("after {}: {:?}", i, other),
                    }
                }
            })
        })
        .collect();
    for i in 0..N {
        assert_eq!(p.send_for(Elem::new(i), SEC).unwrap(), SendStatus::Sent);
    }
    drop(p);
    for r in readers {
        assert_eq!(r.join().unwrap(), N);
    }
}

// ---- type and kind checks ------------------------------------------------------------------

#[repr(C, align(16))]
#[derive(Clone, Copy)]
struct Wide {
    a: [u64; 2],
}
unsafe impl Pod for Wide {}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct Tagged {
    v: u64,
}
unsafe impl Pod for Tagged {
    const TYPE_TAG: u64 = 0x5EED;
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct OtherTag {
    v: u64,
}
unsafe impl Pod for OtherTag {
    const TYPE_TAG: u64 = 0xBAD;
}

#[test]
fn type_and_kind_errors() {
    let missing = Name::new("typed-missing");
    assert_eq!(Segment::open(missing.as_str()).unwrap_err().code(), Errc::ShmNotFound);

    let name = Name::new("typed-err");
    let seg = Segment::create_spsc::<Elem>(name.as_str(), 16).unwrap();
    assert_eq!(Segment::create_spsc::<Elem>(name.as_str(), 16).unwrap_err().code(), Errc::ShmExists);
    // size_of::<T>() against the recorded element size.
    let e = SpscSender::<[u64; 3]>::attach(&seg).err().unwrap();
    assert_eq!(e.code(), Errc::ShmTypeMismatch);
    assert!(e.message().contains("24") && e.message().contains("16"), "{}", e);
    // the kind.
    assert_eq!(BcSubscriber::<Elem>::attach(&seg).err().unwrap().code(), Errc::ShmKindMismatch);
    assert_eq!(MpscReceiver::<Elem>::attach(&seg).err().unwrap().code(), Errc::ShmKindMismatch);
    assert_eq!(ringwire::BbReader::lossy(&seg).err().unwrap().code(), Errc::ShmKindMismatch);
    assert_eq!(Segment::open_byte_broadcast(name.as_str()).unwrap_err().code(), Errc::ShmKindMismatch);
    // alignment over 8.
    let wide = Name::new("typed-wide");
    assert_eq!(Segment::create_spsc::<Wide>(wide.as_str(), 16).unwrap_err().code(), Errc::ShmTypeMismatch);
    // element sizes the C API cannot carry (not a multiple of 8).
    let small = Name::new("typed-small");
    let e = Segment::create_spsc::<u32>(small.as_str(), 16).unwrap_err();
    assert_eq!(e.code(), Errc::InvalidOptions, "{}", e);
    // a second sender / receiver.
    let _tx = SpscSender::<Elem>::attach(&seg).unwrap();
    assert_eq!(SpscSender::<Elem>::attach(&seg).err().unwrap().code(), Errc::ShmAlreadyAttached);
    // type tags: recorded at create, checked at attach by the library.
    let tagged = Name::new("typed-tag");
    let tseg = Segment::create_broadcast::<Tagged>(tagged.as_str(), 16, 2, BcPolicy::Lossy).unwrap();
    assert_eq!(tseg.info().unwrap().type_tag, 0x5EED);
    let e = BcSubscriber::<OtherTag>::attach(&tseg).err().unwrap();
    assert_eq!(e.code(), Errc::ShmTypeMismatch, "{}", e);
    let _s = BcSubscriber::<Tagged>::attach(&tseg).unwrap();
    let _u = BcSubscriber::<u64>::attach(&tseg).unwrap(); // tag 0: not checked
}

#[test]
fn open_by_name_any_kind() {
    let name = Name::new("typed-open");
    let seg = Segment::create_broadcast::<Elem>(name.as_str(), 32, 3, BcPolicy::Lossless).unwrap();
    let again = Segment::open(name.as_str()).unwrap();
    assert_eq!(again.info().unwrap(), seg.info().unwrap());
    assert_eq!(again.name(), name.as_str());
    let mut p = BcPublisher::<Elem>::attach(&seg).unwrap();
    let mut s = BcSubscriber::<Elem>::attach(&again).unwrap();
    assert_eq!(p.try_send(Elem::new(42)).unwrap(), SendStatus::Sent);
    assert_eq!(s.try_recv().unwrap(), Recv::Msg(Elem::new(42)));
    // Counters: the subscriber's read position shows up.
    let cs = again.counters().unwrap();
    assert!(!cs.is_empty());
    assert!(cs.iter().any(|c| c.role == Some("subscriber")), "{:?}", cs);
    drop(seg);
    drop(again);
    // The endpoints keep the segment open.
    assert_eq!(p.try_send(Elem::new(43)).unwrap(), SendStatus::Sent);
    assert_eq!(s.try_recv().unwrap(), Recv::Msg(Elem::new(43)));
    assert!(ringwire::unlink(name.as_str()).unwrap());
    assert_eq!(Segment::open(name.as_str()).unwrap_err().code(), Errc::ShmNotFound);
}
