// A downstream program of the installed crate: a byte-broadcast round trip through the
// installed libringwire_c.
use ringwire::{BbGeometry, BbReader, BbWriter, Recv, Segment};

fn main() {
    assert!(ringwire::abi_compatible(), "libringwire_c of another ABI");
    let name = format!("/rw-rust-install-{}", std::process::id());
    let seg = Segment::create_byte_broadcast(
        &name,
        &BbGeometry { depth: 16, region_bytes: 4096, max_message: 256, max_credited: 0 },
    )
    .expect("create");
    let mut w = BbWriter::attach(&seg).expect("writer");
    let mut r = BbReader::lossy(&seg).expect("reader");
    w.try_write(1, b"installed").expect("write");
    let mut buf = [0u8; 256];
    match r.try_read(&mut buf).expect("read") {
        Recv::Msg(info) => assert_eq!(&buf[..info.size as usize], b"installed"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    seg.unlink().expect("unlink");
    println!("installed crate ok: libringwire_c {}", ringwire::library_version());
}
