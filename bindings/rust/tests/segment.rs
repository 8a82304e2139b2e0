// Segment-wide calls: counters, reap of a process killed with SIGKILL, unlink; and the FFI
// struct layouts against the C compiler's (sizes and offsets printed by a C program built
// from ringwire_c.h when the crate was written; a change to the header must update both).
mod common;

use std::mem::{align_of, size_of};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Elem, Name, SEC};
use ringwire::sys;
use ringwire::{BcPolicy, BcPublisher, BcSubscriber, Errc, Recv, Segment, SendStatus};

macro_rules! offset_of {
    ($t:ty, $f:ident) => {{
        let v = std::mem::MaybeUninit::<$t>::uninit();
        let base = v.as_ptr() as usize;
        // SAFETY: only the field's address is taken.
        let f = unsafe { std::ptr::addr_of!((*v.as_ptr()).$f) } as usize;
        f - base
    }};
}

#[test]
fn ffi_layouts_match_the_header() {
    assert_eq!((size_of::<sys::rw_segment_info>(), align_of::<sys::rw_segment_info>()), (56, 8));
    assert_eq!(offset_of!(sys::rw_segment_info, capacity), 8);
    assert_eq!(offset_of!(sys::rw_segment_info, elem_size), 16);
    assert_eq!(offset_of!(sys::rw_segment_info, type_tag), 24);
    assert_eq!(offset_of!(sys::rw_segment_info, endpoints), 32);
    assert_eq!(offset_of!(sys::rw_segment_info, region_bytes), 40);
    assert_eq!(offset_of!(sys::rw_segment_info, creator_pid), 48);
    assert_eq!(size_of::<sys::rw_counter>(), 32);
    assert_eq!(offset_of!(sys::rw_counter, index), 8);
    assert_eq!(offset_of!(sys::rw_counter, key), 16);
    assert_eq!(offset_of!(sys::rw_counter, value), 24);
    assert_eq!(size_of::<sys::rw_br_record>(), 24);
    assert_eq!(offset_of!(sys::rw_br_record, data), 8);
    assert_eq!(offset_of!(sys::rw_br_record, size), 16);
    assert_eq!(size_of::<sys::rw_bb_geometry>(), 32);
    assert_eq!(offset_of!(sys::rw_bb_geometry, max_credited), 24);
    assert_eq!(size_of::<sys::rw_bb_info>(), 32);
    assert_eq!(offset_of!(sys::rw_bb_info, size), 24);
    assert_eq!(offset_of!(sys::rw_bb_info, ctl), 28);
}

#[test]
fn errc_and_status_names() {
    for v in [1, 12, 16, 17, 22, 24, 32, 1000, 1001] {
        assert_eq!(Errc::from_code(v).code(), v);
        assert!(!matches!(Errc::from_code(v), Errc::Other(_)), "{}", v);
    }
    assert_eq!(Errc::from_code(4242), Errc::Other(4242));
    assert_eq!(Errc::from_code(12), Errc::ShmNotFound);
    assert_eq!(ringwire::status_name(sys::RW_LAGGED), "lagged");
}

#[test]
fn counters() {
    let name = Name::new("seg-counters");
    let seg = Segment::create_broadcast::<Elem>(name.as_str(), 16, 2, BcPolicy::Lossy).unwrap();
    let mut p = BcPublisher::<Elem>::attach(&seg).unwrap();
    let mut s = BcSubscriber::<Elem>::attach(&seg).unwrap();
    for i in 0..5 {
        assert_eq!(p.try_send(Elem::new(i)).unwrap(), SendStatus::Sent);
    }
    assert!(s.try_recv().unwrap().is_msg());
    let cs = seg.counters().unwrap();
    assert!(cs.iter().any(|c| c.role.is_none()), "channel-wide items: {:?}", cs);
    assert!(cs.iter().any(|c| c.role == Some("claims")), "claims: {:?}", cs);
    assert!(cs.iter().all(|c| !c.key.is_empty()));
    // Something channel-wide counts the 5 messages published.
    assert!(cs.iter().any(|c| c.role.is_none() && c.value == 5), "{:?}", cs);
}

/// Not a test by itself: the child the reap test spawns (and kills) runs this.
#[test]
#[ignore]
fn child_publisher_then_hang() {
    let name = match std::env::var("RW_RS_CHILD_SEG") {
        Ok(n) => n,
        Err(_) => return,
    };
    let seg = Segment::open(&name).unwrap();
    let mut p = BcPublisher::<Elem>::attach(&seg).unwrap();
    for i in 0..3 {
        assert_eq!(p.try_send(Elem::new(i)).unwrap(), SendStatus::Sent);
    }
    println!("child: sent");
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Kills (SIGKILL) and waits for the child on every path, a failed assertion included.
struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn reap_a_killed_publisher() {
    let name = Name::new("seg-reap");
    let seg = Segment::create_broadcast::<Elem>(name.as_str(), 16, 2, BcPolicy::Lossy).unwrap();
    let mut s = BcSubscriber::<Elem>::attach(&seg).unwrap();
    let mut child = Child(
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_publisher_then_hang", "--ignored", "--nocapture", "--test-threads=1"])
            .env("RW_RS_CHILD_SEG", name.as_str())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    for i in 0..3 {
        assert_eq!(s.recv_for(SEC).unwrap(), Recv::Msg(Elem::new(i)));
    }
    // The live child holds the publisher: nobody else may attach, and reap leaves it.
    assert_eq!(BcPublisher::<Elem>::attach(&seg).err().unwrap().code(), Errc::ShmAlreadyAttached);
    assert_eq!(seg.reap().unwrap(), 0);
    child.0.kill().unwrap(); // SIGKILL
    child.0.wait().unwrap();
    assert_eq!(seg.reap().unwrap(), 1, "the dead publisher is reaped");
    assert_eq!(seg.reap().unwrap(), 0, "once");
    // Reaped as its detach would: the stream is closed for the subscriber...
    assert_eq!(s.recv_for(SEC).unwrap(), Recv::Closed);
    // ...and the publisher's place is free again.
    let mut p = BcPublisher::<Elem>::attach(&seg).unwrap();
    assert_eq!(p.try_send(Elem::new(9)).unwrap(), SendStatus::Sent);
}

#[test]
fn open_fd_joins_the_same_segment() {
    use std::os::unix::io::AsRawFd;
    let name = Name::new("seg-fd");
    let seg = Segment::create_broadcast::<Elem>(name.as_str(), 16, 2, BcPolicy::Lossy).unwrap();
    assert_eq!(seg.fd(), None); // named: no descriptor of its own
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(format!("/dev/shm{}", name.as_str()))
        .unwrap();
    let other = Segment::open_fd(file.as_raw_fd()).unwrap();
    drop(file); // the segment keeps its own duplicate
    let mut p = BcPublisher::<Elem>::attach(&seg).unwrap();
    let mut s = BcSubscriber::<Elem>::attach(&other).unwrap();
    assert_eq!(p.try_send(Elem::new(9)).unwrap(), SendStatus::Sent);
    match s.try_recv().unwrap() {
        Recv::Msg(e) => assert_eq!(e.seq, 9),
        other => panic!("{:?}", other.map(|_| ())),
    }
    assert_eq!(Segment::open_fd(-1).unwrap_err().code(), Errc::ShmSystemError);
}
