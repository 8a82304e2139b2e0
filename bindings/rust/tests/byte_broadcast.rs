// Byte broadcast through the Rust crate: round trips, lossy and credited readers, exact lag
// counts, skip, a too-small buffer, errors, re-open by name, two threads.
mod common;

use std::time::Duration;

use common::{Name, SEC};
use ringwire::{BbGeometry, BbReader, BbWriter, Errc, Recv, Segment, SendStatus};

const G: BbGeometry = BbGeometry { depth: 16, region_bytes: 1 << 12, max_message: 256, max_credited: 1 };

fn payload(i: u64) -> Vec<u8> {
    // 1..=200 bytes, contents derived from i.
    let len = 1 + (i.wrapping_mul(37) % 200) as usize;
    (0..len).map(|k| (i as u8).wrapping_mul(31).wrapping_add(k as u8)).collect()
}

#[test]
fn round_trip_every_message() {
    let name = Name::new("bb-rt");
    let seg = Segment::create_byte_broadcast(name.as_str(), &G).unwrap();
    assert_eq!(seg.bb_geometry().unwrap(), G);
    let info = seg.info().unwrap();
    assert_eq!(info.kind, ringwire::Kind::ByteBroadcast);
    assert_eq!((info.capacity, info.region_bytes, info.endpoints), (G.depth, G.region_bytes, G.max_credited));
    assert_eq!((info.elem_size, info.elem_align, info.type_tag), (0, 0, 0));
    let mut w = BbWriter::attach(&seg).unwrap();
    let mut r = BbReader::credited(&seg).unwrap();
    assert_eq!(r.max_message(), 256);
    let mut buf = [0u8; 256];
    assert_eq!(r.try_read(&mut buf).unwrap(), Recv::Empty);
    for i in 0..100u64 {
        assert_eq!(w.try_write(i, &payload(i)).unwrap(), SendStatus::Sent);
        match r.read_for(&mut buf, SEC).unwrap() {
            Recv::Msg(info) => {
                assert_eq!(info.seq, i + 1);
                assert_eq!(info.signature, i);
                assert_eq!(&buf[..info.size as usize], &payload(i)[..]);
                assert!(info.tspub > 0);
            }
            other => panic!("message {}: {:?}", i, other),
        }
    }
    assert_eq!(r.read_for(&mut buf, Duration::from_millis(5)).unwrap(), Recv::TimedOut);
    drop(w);
    assert_eq!(r.try_read(&mut buf).unwrap(), Recv::Closed);
    assert!(seg.unlink().unwrap());
    assert!(!seg.unlink().unwrap());
}

#[test]
fn vec_reads_and_too_small() {
    let name = Name::new("bb-vec");
    let seg = Segment::create_byte_broadcast(name.as_str(), &G).unwrap();
    let mut w = BbWriter::attach(&seg).unwrap();
    let mut r = BbReader::lossy(&seg).unwrap();
    assert_eq!(w.try_write(9, &payload(5)).unwrap(), SendStatus::Sent);
    let mut small = [0u8; 2];
    let want = payload(5).len();
    assert_eq!(r.try_read(&mut small).unwrap(), Recv::TooSmall(want));
    let mut v = vec![1, 2, 3];
    let info = r.try_read_vec(&mut v).unwrap().msg().expect("a message");
    assert_eq!(info.size as usize, want);
    assert_eq!(v, payload(5));
    assert_eq!(r.try_read_vec(&mut v).unwrap(), Recv::Empty);
    // An empty message is a message.
    assert_eq!(w.try_write(1, &[]).unwrap(), SendStatus::Sent);
    let info = r.read_vec_for(&mut v, SEC).unwrap().msg().expect("a message");
    assert_eq!((info.size, v.len()), (0, 0));
}

#[test]
fn credited_reader_holds_the_writer_back() {
    let name = Name::new("bb-credit");
    let seg = Segment::create_byte_broadcast(name.as_str(), &G).unwrap();
    let mut w = BbWriter::attach(&seg).unwrap();
    let mut r = BbReader::credited(&seg).unwrap();
    let mut sent = 0u64;
    while w.try_write(sent, &payload(sent)).unwrap() == SendStatus::Sent {
        sent += 1;
        assert!(sent <= 100, "the credited reader never held the writer back");
    }
    assert_eq!(sent, G.depth); // exactly a ring's depth
    assert_eq!(w.write_for(0, b"x", Duration::from_millis(10)).unwrap(), SendStatus::TimedOut);
    // A second credited reader is over max_credited.
    let e = BbReader::credited(&seg).err().expect("max_credited is 1");
    assert!(!e.message().is_empty());
    let mut v = Vec::new();
    for i in 0..sent {
        let info = r.try_read_vec(&mut v).unwrap().msg().expect("a message");
        assert_eq!((info.seq, info.signature), (i + 1, i));
        assert_eq!(v, payload(i));
    }
    assert_eq!(w.try_write(1, b"room again").unwrap(), SendStatus::Sent);
}

#[test]
fn lossy_reader_lag_is_exact() {
    let name = Name::new("bb-lag");
    let seg = Segment::create_byte_broadcast(name.as_str(), &G).unwrap();
    let mut w = BbWriter::attach(&seg).unwrap();
    let mut r = BbReader::lossy(&seg).unwrap();
    let total = 10 * G.depth;
    for i in 0..total {
        assert_eq!(w.try_write(i, &payload(i)).unwrap(), SendStatus::Sent);
    }
    let (mut got, mut lost) = (0u64, 0u64);
    let mut next_seq = 1u64;
    let mut v = Vec::new();
    loop {
        match r.try_read_vec(&mut v).unwrap() {
            Recv::Msg(info) => {
                assert_eq!(info.seq, next_seq, "a gap not reported as a lag");
                assert_eq!(v, payload(info.signature));
                next_seq += 1;
                got += 1;
            }
            Recv::Lagged(n) => {
                assert!(n > 0);
                lost += n;
                next_seq += n;
            }
            Recv::Empty => break,
            other => panic!("{:?}", other),
        }
    }
    assert!(lost > 0, "10 rings written: the lossy reader must have lagged");
    assert_eq!(got + lost, total);
}

#[test]
fn skip_is_reported_to_every_reader() {
    let name = Name::new("bb-skip");
    let seg = Segment::create_byte_broadcast(name.as_str(), &G).unwrap();
    let mut w = BbWriter::attach(&seg).unwrap();
    let mut a = BbReader::lossy(&seg).unwrap();
    let mut b = BbReader::credited(&seg).unwrap();
    assert_eq!(w.skip(5).unwrap(), SendStatus::Sent);
    assert_eq!(w.try_write(3, b"after").unwrap(), SendStatus::Sent);
    let mut v = Vec::new();
    for r in [&mut a, &mut b] {
        assert_eq!(r.try_read_vec(&mut v).unwrap(), Recv::Lagged(5));
        let info = r.try_read_vec(&mut v).unwrap().msg().unwrap();
        assert_eq!((info.seq, &v[..]), (6, &b"after"[..]));
    }
}

#[test]
fn errors() {
    let name = Name::new("bb-err");
    let e = Segment::open_byte_broadcast(name.as_str()).unwrap_err();
    assert_eq!(e.code(), Errc::ShmNotFound, "{}", e);
    let seg = Segment::create_byte_broadcast(name.as_str(), &G).unwrap();
    assert_eq!(Segment::create_byte_broadcast(name.as_str(), &G).unwrap_err().code(), Errc::ShmExists);
    let mut w = BbWriter::attach(&seg).unwrap();
    assert_eq!(BbWriter::attach(&seg).err().unwrap().code(), Errc::ShmAlreadyAttached);
    let e = w.try_write(0, &[0u8; 300]).unwrap_err();
    assert_eq!(e.code(), Errc::MessageTooLarge);
    assert!(!e.to_string().is_empty());
    assert_eq!(Segment::open("/bad\0name").unwrap_err().code(), Errc::InvalidArgument);
    let bad = BbGeometry { depth: 3, ..G };
    let other = Name::new("bb-err-geo");
    assert!(Segment::create_byte_broadcast(other.as_str(), &bad).is_err());
    // Re-opened by name: the recorded geometry, the same channel.
    let again = Segment::open_byte_broadcast(name.as_str()).unwrap();
    assert_eq!(again.bb_geometry().unwrap(), G);
    let mut r = BbReader::lossy(&again).unwrap();
    assert_eq!(w.try_write(4, b"hi").unwrap(), SendStatus::Sent);
    let mut v = Vec::new();
    assert_eq!(r.try_read_vec(&mut v).unwrap().msg().unwrap().signature, 4);
    assert_eq!(v, b"hi");
    // The segment outlives this handle while the endpoints hold it.
    drop(seg);
    drop(again);
    assert_eq!(w.try_write(5, b"still").unwrap(), SendStatus::Sent);
    assert!(r.try_read_vec(&mut v).unwrap().is_msg());
}

#[test]
fn writer_and_reader_in_two_threads() {
    let name = Name::new("bb-threads");
    let g = BbGeometry { depth: 64, region_bytes: 1 << 14, max_message: 256, max_credited: 1 };
    let seg = Segment::create_byte_broadcast(name.as_str(), &g).unwrap();
    let mut r = BbReader::credited(&seg).unwrap();
    let mut w = BbWriter::attach(&seg).unwrap();
    const N: u64 = 50_000;
    let writer = std::thread::spawn(move || {
        for i in 0..N {
            assert_eq!(w.write_for(i, &payload(i), SEC).unwrap(), SendStatus::Sent);
        }
        // w dropped here: the reader sees Closed after the last message
    });
    let mut v = Vec::new();
    let mut i = 0u64;
    loop {
        match r.read_vec_for(&mut v, SEC).unwrap() {
            Recv::Msg(info) => {
                assert_eq!((info.seq, info.signature), (i + 1, i));
                assert_eq!(v, payload(i));
                i += 1;
            }
            Recv::Closed => break,
            other => panic!("after {}: {:?}", i, other),
        }
    }
    writer.join().unwrap();
    assert_eq!(i, N);
}
