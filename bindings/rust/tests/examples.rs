// The example programs the cross-language tests spawn, driven from here as separate
// processes: bc_subscriber against a Rust publisher (clean, and with a corrupt element),
// mpsc_producer processes into a Rust receiver, and one killed with SIGKILL mid-stream.
// `cargo test` builds the examples before running the tests.
mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use common::{Elem, Name, SEC};
use ringwire::{BcPolicy, BcPublisher, MpscReceiver, Recv, Segment, SendStatus};

fn example(name: &str) -> PathBuf {
    // target/<profile>/deps/examples-<hash> -> target/<profile>/examples/<name>
    let exe = std::env::current_exe().unwrap();
    let p = exe.parent().unwrap().parent().unwrap().join("examples").join(name);
    assert!(p.exists(), "{} not built", p.display());
    p
}

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(name: &str, args: &[&str]) -> (Proc, BufReader<std::process::ChildStdout>) {
    let mut c = Command::new(example(name)).args(args).stdout(Stdio::piped()).stdin(Stdio::null()).spawn().unwrap();
    let out = BufReader::new(c.stdout.take().unwrap());
    (Proc(c), out)
}

fn line(r: &mut BufReader<std::process::ChildStdout>) -> String {
    let mut s = String::new();
    r.read_line(&mut s).unwrap();
    s.trim().to_string()
}

fn finish(mut p: Proc, mut out: BufReader<std::process::ChildStdout>) -> (i32, String) {
    let status = p.0.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    (status.code().unwrap_or(-1), rest.trim().to_string())
}

#[test]
fn bc_subscriber_checks_every_element() {
    let name = Name::new("ex-bc");
    let seg = Segment::create_broadcast::<Elem>(name.as_str(), 256, 2, BcPolicy::Lossless).unwrap();
    let mut p = BcPublisher::<Elem>::attach(&seg).unwrap();
    let (proc_, mut out) = spawn("bc_subscriber", &[name.as_str(), "10"]);
    assert_eq!(line(&mut out), "ready");
    const N: u64 = 100_000;
    for i in 0..N {
        assert_eq!(p.send_for(Elem::new(i), SEC).unwrap(), SendStatus::Sent);
    }
    drop(p);
    assert_eq!(finish(proc_, out), (0, format!("ok {} missed 0", N)));
}

#[test]
fn bc_subscriber_fails_on_a_bad_element() {
    let name = Name::new("ex-bc-bad");
    let seg = Segment::create_broadcast::<Elem>(name.as_str(), 64, 2, BcPolicy::Lossless).unwrap();
    let mut p = BcPublisher::<Elem>::attach(&seg).unwrap();
    let (proc_, mut out) = spawn("bc_subscriber", &[name.as_str(), "10"]);
    assert_eq!(line(&mut out), "ready");
    for i in 0..10 {
        assert_eq!(p.send_for(Elem::new(i), SEC).unwrap(), SendStatus::Sent);
    }
    assert_eq!(p.send_for(Elem { seq: 10, check: 1 }, SEC).unwrap(), SendStatus::Sent);
    let (code, text) = finish(proc_, out);
    assert_eq!(code, 1, "{}", text);
    assert!(text.starts_with("mismatch: seq 10"), "{}", text);
    // And a skipped seq is a mismatch too.
    let name2 = Name::new("ex-bc-gap");
    let seg2 = Segment::create_broadcast::<Elem>(name2.as_str(), 64, 2, BcPolicy::Lossless).unwrap();
    let mut p2 = BcPublisher::<Elem>::attach(&seg2).unwrap();
    let (proc2, mut out2) = spawn("bc_subscriber", &[name2.as_str(), "10"]);
    assert_eq!(line(&mut out2), "ready");
    for i in [0u64, 1, 2, 4] {
        assert_eq!(p2.send_for(Elem::new(i), SEC).unwrap(), SendStatus::Sent);
    }
    assert_eq!(finish(proc2, out2).0, 1);
}

#[test]
fn mpsc_producers_into_a_rust_receiver() {
    let name = Name::new("ex-mpsc");
    let seg = Segment::create_mpsc::<Elem>(name.as_str(), 128, 4).unwrap();
    let mut rx = MpscReceiver::<Elem>::attach(&seg).unwrap();
    const N: u64 = 30_000;
    let producers: Vec<_> = (0..2).map(|_| spawn("mpsc_producer", &[name.as_str(), &N.to_string()])).collect();
    // Two lanes, each FIFO: per producer the seqs run 0..N; lanes are told apart by order
    // (each seq appears exactly twice, and within each lane in order).
    let mut seen = vec![0u8; N as usize];
    let mut got = 0u64;
    while got < 2 * N {
        match rx.recv_for(SEC * 4).unwrap() {
            Recv::Msg(e) => {
                assert_eq!(e, Elem::new(e.seq));
                seen[e.seq as usize] += 1;
                got += 1;
            }
            other => panic!("after {}: {:?}", got, other),
        }
    }
    assert!(seen.iter().all(|&c| c == 2));
    for (p, out) in producers {
        assert_eq!(finish(p, out), (0, format!("sent {}", N)));
    }
    seg.close_producers().unwrap();
    assert_eq!(rx.recv_for(SEC).unwrap(), Recv::Closed);
}

#[test]
fn mpsc_producer_killed_mid_stream() {
    let name = Name::new("ex-mpsc-kill");
    let seg = Segment::create_mpsc::<Elem>(name.as_str(), 4096, 2).unwrap();
    let mut rx = MpscReceiver::<Elem>::attach(&seg).unwrap();
    let (mut p, mut out) = spawn("mpsc_producer", &[name.as_str(), "1000000", "1000"]);
    assert_eq!(line(&mut out), "stopped 1000");
    assert_eq!(seg.reap().unwrap(), 0, "alive: not reaped");
    p.0.kill().unwrap(); // SIGKILL
    p.0.wait().unwrap();
    assert_eq!(seg.reap().unwrap(), 1, "the dead producer's lane");
    // Everything it committed is there, in order; then its lane is closed.
    for i in 0..1000 {
        assert_eq!(rx.recv_for(SEC).unwrap(), Recv::Msg(Elem::new(i)));
    }
    seg.close_producers().unwrap();
    assert_eq!(rx.recv_for(SEC).unwrap(), Recv::Closed);
}
