// The byte ring through the Rust crate: records copied and zero-copy, read in place with
// borrowed views, batches, backpressure, many-to-one writers in threads, errors.
mod common;

use std::time::Duration;

use common::{Name, SEC};
use ringwire::{BrReader, BrWriter, Errc, Kind, Recv, Reserve, Segment, SendStatus};

const SHORT: Duration = Duration::from_millis(5);

fn record(i: u64) -> (i32, Vec<u8>) {
    let len = (i.wrapping_mul(53) % 120) as usize; // 0..119 bytes
    (1 + (i % 7) as i32, (0..len).map(|k| (i as u8) ^ (k as u8).wrapping_mul(13)).collect())
}

#[test]
fn one_to_one_round_trip() {
    let name = Name::new("br-rt");
    let seg = Segment::create_byte_ring(name.as_str(), 4096).unwrap();
    let info = seg.info().unwrap();
    assert_eq!((info.kind, info.policy), (Kind::ByteRing, 1));
    let mut w = BrWriter::attach(&seg).unwrap();
    let mut r = BrReader::attach(&seg).unwrap();
    assert!(matches!(r.try_read().unwrap(), Recv::Empty));
    assert!(matches!(r.read_for(SHORT).unwrap(), Recv::TimedOut));
    for i in 0..2000u64 {
        let (ty, data) = record(i);
        assert_eq!(w.try_write(ty, &data).unwrap(), SendStatus::Sent);
        match r.read_for(SEC).unwrap() {
            Recv::Msg(rec) => {
                assert_eq!(rec.ty(), ty);
                assert_eq!(rec.data(), &data[..]);
                assert_eq!(&rec[..], &data[..]); // Deref
            } // released here
            other => panic!("record {}: {:?}", i, other),
        }
    }
    drop(w);
    assert!(matches!(r.try_read().unwrap(), Recv::Closed));
}

#[test]
fn backpressure_and_batches() {
    let name = Name::new("br-full");
    let seg = Segment::create_byte_ring(name.as_str(), 1024).unwrap();
    let mut w = BrWriter::attach(&seg).unwrap();
    let mut r = BrReader::attach(&seg).unwrap();
    let mut sent = 0u64;
    loop {
        let (ty, data) = record(sent);
        match w.try_write(ty, &data).unwrap() {
            SendStatus::Sent => sent += 1,
            SendStatus::Full => break,
            other => panic!("{:?}", other),
        }
        assert!(sent < 10_000, "never full");
    }
    assert!(sent > 5);
    let (ty, data) = record(sent);
    assert_eq!(w.write_for(ty, &data, SHORT).unwrap(), SendStatus::TimedOut);
    // A record held (not released) keeps its room: still full.
    {
        let rec = r.try_read().unwrap().msg().expect("queued");
        assert_eq!((rec.ty(), rec.data()), (record(0).0, &record(0).1[..]));
        assert_eq!(w.try_write(ty, &data).unwrap(), SendStatus::Full);
    }
    // Batches: every record in order, released together.
    let mut next = 1u64;
    while next < sent {
        let got = r
            .try_read_batch(3, |t, bytes| {
                let (et, ed) = record(next);
                assert_eq!((t, bytes), (et, &ed[..]), "record {}", next);
                next += 1;
            })
            .unwrap();
        assert!(matches!(got, Recv::Msg(1..=3)), "{:?}", got);
    }
    assert_eq!(r.try_read_batch(8, |_, _| panic!("nothing queued")).unwrap(), Recv::Empty);
    assert_eq!(w.try_write(ty, &data).unwrap(), SendStatus::Sent);
}

#[test]
fn zero_copy_reserve_commit_abort() {
    let name = Name::new("br-zc");
    let seg = Segment::create_byte_ring(name.as_str(), 4096).unwrap();
    let mut w = BrWriter::attach(&seg).unwrap();
    let mut r = BrReader::attach(&seg).unwrap();
    // Commit 5 of 16 bytes.
    match w.reserve(16).unwrap() {
        Reserve::Granted(mut room) => {
            assert_eq!(room.len(), 16);
            room[..5].copy_from_slice(b"hello");
            room.commit(9, 5).unwrap();
        }
        _ => panic!("no room in an empty ring"),
    }
    // Dropped: aborted, nothing published.
    {
        let mut room = w.reserve(32).unwrap().granted().expect("room");
        room.fill(0xAB);
    }
    // A bad type: an error, nothing published, the writer goes on.
    let room = w.reserve(8).unwrap().granted().expect("room");
    let e = room.commit(0, 8).unwrap_err();
    assert_eq!(e.code(), Errc::InvalidMessageType, "{}", e);
    let room = w.reserve(8).unwrap().granted().expect("room after a failed commit");
    assert!(room.commit(2, 9).is_err()); // more than reserved
    let mut room = w.reserve(8).unwrap().granted().expect("room");
    room.copy_from_slice(b"abcdefgh");
    room.commit(3, 8).unwrap();

    // A forgotten guard: aborted before the next write, nothing published.
    let room = w.reserve(16).unwrap().granted().expect("room");
    std::mem::forget(room);
    let room = w.reserve(16).unwrap().granted().expect("room after a forgotten guard");
    std::mem::forget(room);

    let rec = r.try_read().unwrap().msg().expect("the first");
    assert_eq!((rec.ty(), rec.data()), (9, &b"hello"[..]));
    rec.release();
    let rec = r.try_read().unwrap().msg().expect("the second");
    assert_eq!((rec.ty(), rec.data()), (3, &b"abcdefgh"[..]));
    drop(rec);
    assert!(matches!(r.try_read().unwrap(), Recv::Empty));
    // Too large for the ring: an error.
    let e = w.try_write(1, &vec![0u8; 8192]).unwrap_err();
    assert_eq!(e.code(), Errc::MessageTooLarge, "{}", e);
    assert!(w.reserve(8192).is_err());
}

#[test]
fn many_to_one_threads() {
    let name = Name::new("br-m2o");
    let seg = Segment::create_byte_ring_many_to_one(name.as_str(), 1 << 14, 4).unwrap();
    // policy: byte_ring::ring_kind as the C++ side records it (1 one-to-one, 2 many-to-one).
    assert_eq!(seg.info().unwrap().policy, 2);
    let mut r = BrReader::attach(&seg).unwrap();
    let w = BrWriter::attach(&seg).unwrap();
    const N: u64 = 20_000;
    let writers: Vec<BrWriter> = (0..3).map(|_| w.try_clone().unwrap()).collect();
    drop(w);
    let threads: Vec<_> = writers
        .into_iter()
        .enumerate()
        .map(|(k, mut w)| {
            std::thread::spawn(move || {
                for i in 0..N {
                    let payload = [(k as u64).to_le_bytes(), i.to_le_bytes()].concat();
                    assert_eq!(w.write_for(1 + k as i32, &payload, SEC).unwrap(), SendStatus::Sent);
                }
            })
        })
        .collect();
    let mut next = [0u64; 3];
    let mut got = 0u64;
    while got < 3 * N {
        match r.read_for(SEC).unwrap() {
            Recv::Msg(rec) => {
                let k = u64::from_le_bytes(rec[..8].try_into().unwrap()) as usize;
                let i = u64::from_le_bytes(rec[8..16].try_into().unwrap());
                assert_eq!(rec.ty(), 1 + k as i32);
                assert_eq!(i, next[k], "writer {} out of order", k);
                next[k] += 1;
                got += 1;
            }
            other => panic!("after {}: {:?}", got, other),
        }
    }
    for t in threads {
        t.join().unwrap();
    }
    assert!(seg.close_writers().unwrap());
    assert!(matches!(r.read_for(SEC).unwrap(), Recv::Closed));
}

#[test]
fn errors() {
    let name = Name::new("br-err");
    assert!(Segment::create_byte_ring(name.as_str(), 1000).is_err()); // not a power of two
    let seg = Segment::create_byte_ring(name.as_str(), 1024).unwrap();
    let w = BrWriter::attach(&seg).unwrap();
    assert_eq!(BrWriter::attach(&seg).err().unwrap().code(), Errc::ShmAlreadyAttached);
    assert_eq!(w.try_clone().err().unwrap().code(), Errc::InvalidArgument); // one-to-one
    let _r = BrReader::attach(&seg).unwrap();
    assert_eq!(BrReader::attach(&seg).err().unwrap().code(), Errc::ShmAlreadyAttached);
    assert_eq!(ringwire::SpscSender::<u64>::attach(&seg).err().unwrap().code(), Errc::ShmKindMismatch);
}
