//! bench_recv [--thread] [SECONDS]
//!
//! Messages per second received by a Rust reader: a typed broadcast subscriber (16-byte
//! elements) and a byte-broadcast reader (64-byte messages), each lossless (lossless
//! policy / credited reader: every message arrives) and lossy (the writer never waits;
//! the reader counts what it got and what it was told it missed). The writer is another
//! process (this program re-run as a writer), or a thread with --thread. SECONDS per run:
//! 2 by default (4 runs: under 20 s in all). Prints a table.
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ringwire::{BbGeometry, BbReader, BbWriter, BcPolicy, BcPublisher, BcSubscriber, Pod, Recv, Segment, SendStatus};

#[repr(C)]
#[derive(Clone, Copy)]
struct Elem {
    seq: u64,
    check: u64,
}
unsafe impl Pod for Elem {}

const BC_CAPACITY: u64 = 4096;
const BB_GEOMETRY: BbGeometry = BbGeometry { depth: 4096, region_bytes: 1 << 20, max_message: 1024, max_credited: 1 };
const BB_MESSAGE: usize = 64;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Typed,
    Bytes,
}

// ---- the writer side: publishes as fast as it can for `secs`, then closes ----------------

fn write(kind: Kind, name: &str, lossless: bool, secs: f64) -> u64 {
    let seg = Segment::open(name).expect("open");
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut sent = 0u64;
    match kind {
        Kind::Typed => {
            let mut p = BcPublisher::<Elem>::attach(&seg).expect("publisher");
            while Instant::now() < deadline {
                for _ in 0..256 {
                    let e = Elem { seq: sent, check: sent };
                    let s = if lossless { p.send_for(e, Duration::from_millis(100)) } else { p.try_send(e) };
                    if s.expect("send") == SendStatus::Sent {
                        sent += 1;
                    }
                }
            }
        }
        Kind::Bytes => {
            let mut w = BbWriter::attach(&seg).expect("writer");
            let mut msg = [0u8; BB_MESSAGE];
            while Instant::now() < deadline {
                for _ in 0..256 {
                    msg[..8].copy_from_slice(&sent.to_le_bytes());
                    let s = if lossless {
                        w.write_for(sent, &msg, Duration::from_millis(100))
                    } else {
                        w.try_write(sent, &msg)
                    };
                    if s.expect("write") == SendStatus::Sent {
                        sent += 1;
                    }
                }
            }
        }
    }
    sent // the endpoint closes here: the reader sees Closed
}

// ---- the reader side -------------------------------------------------------------------------

struct Row {
    channel: &'static str,
    reader: &'static str,
    payload: usize,
    got: u64,
    missed: u64,
    secs: f64,
}

fn run(kind: Kind, lossless: bool, secs: f64, thread: bool) -> Row {
    let name = format!("/rw-rs-bench-{}-{}-{}", std::process::id(), kind as u8, lossless as u8);
    let _ = ringwire::unlink(&name);
    let seg = match kind {
        Kind::Typed => Segment::create_broadcast::<Elem>(
            &name,
            BC_CAPACITY,
            2,
            if lossless { BcPolicy::Lossless } else { BcPolicy::Lossy },
        ),
        Kind::Bytes => Segment::create_byte_broadcast(&name, &BB_GEOMETRY),
    }
    .expect("create");
    let mut typed = None;
    let mut bytes = None;
    match kind {
        Kind::Typed => typed = Some(BcSubscriber::<Elem>::attach(&seg).expect("subscriber")),
        Kind::Bytes => bytes = Some(BbReader::attach(&seg, lossless).expect("reader")),
    }
    // The writer starts after the reader attached.
    let mut child = None;
    let mut handle = None;
    if thread {
        let n = name.clone();
        handle = Some(std::thread::spawn(move || write(kind, &n, lossless, secs)));
    } else {
        let exe = std::env::current_exe().expect("current_exe");
        let k = if kind == Kind::Typed { "typed" } else { "bytes" };
        child = Some(
            Command::new(exe)
                .args(["--writer", k, &name, if lossless { "lossless" } else { "lossy" }, &secs.to_string()])
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn the writer"),
        );
    }
    let (mut got, mut missed) = (0u64, 0u64);
    let mut first: Option<Instant> = None; // the first message received
    let mut buf = vec![0u8; BB_GEOMETRY.max_message as usize];
    let idle = Duration::from_secs(10);
    loop {
        let r = match kind {
            Kind::Typed => typed.as_mut().unwrap().recv_for(idle).expect("recv").map(|_| ()),
            Kind::Bytes => bytes.as_mut().unwrap().read_for(&mut buf, idle).expect("read").map(|_| ()),
        };
        match r {
            Recv::Msg(()) => {
                got += 1;
                if first.is_none() {
                    first = Some(Instant::now());
                }
            }
            Recv::Lagged(n) => missed += n,
            Recv::Closed => break,
            Recv::TimedOut => panic!("no message for {:?}", idle),
            _ => {}
        }
    }
    let end = Instant::now(); // Closed: the writer stopped and (lossless) all was read
    if let Some(mut c) = child {
        assert!(c.wait().expect("wait").success(), "the writer failed");
    }
    if let Some(h) = handle {
        h.join().expect("writer thread");
    }
    drop(typed);
    drop(bytes);
    let _ = seg.unlink();
    let secs = first.map(|f| (end - f).as_secs_f64()).unwrap_or(0.0);
    Row {
        channel: if kind == Kind::Typed { "typed broadcast" } else { "byte broadcast" },
        reader: match (kind, lossless) {
            (Kind::Typed, true) => "lossless policy",
            (Kind::Typed, false) => "lossy policy",
            (Kind::Bytes, true) => "credited",
            (Kind::Bytes, false) => "lossy",
        },
        payload: if kind == Kind::Typed { std::mem::size_of::<Elem>() } else { BB_MESSAGE },
        got,
        missed,
        secs,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() >= 6 && args[1] == "--writer" {
        let kind = if args[2] == "typed" { Kind::Typed } else { Kind::Bytes };
        let secs: f64 = args[5].parse().expect("seconds");
        write(kind, &args[3], args[4] == "lossless", secs);
        return;
    }
    let thread = args.iter().any(|a| a == "--thread");
    let secs: f64 = args.iter().skip(1).filter(|a| !a.starts_with("--")).find_map(|a| a.parse().ok()).unwrap_or(2.0);
    println!(
        "ringwire Rust reader, writer in another {} ({} s per run; typed: {} B elements, capacity {}; bytes: {} B messages, depth {})",
        if thread { "thread" } else { "process" },
        secs,
        std::mem::size_of::<Elem>(),
        BC_CAPACITY,
        BB_MESSAGE,
        BB_GEOMETRY.depth
    );
    println!(
        "{:<16} {:<16} {:>7} {:>12} {:>12} {:>8} {:>12} {:>8}",
        "channel", "reader", "payload", "received", "missed", "seconds", "msgs/s", "ns/msg"
    );
    for (kind, lossless) in [(Kind::Typed, true), (Kind::Typed, false), (Kind::Bytes, true), (Kind::Bytes, false)] {
        let r = run(kind, lossless, secs, thread);
        let rate = if r.secs > 0.0 { r.got as f64 / r.secs } else { 0.0 };
        println!(
            "{:<16} {:<16} {:>7} {:>12} {:>12} {:>8.2} {:>12.0} {:>8.1}",
            r.channel,
            r.reader,
            r.payload,
            r.got,
            r.missed,
            r.secs,
            rate,
            if rate > 0.0 { 1e9 / rate } else { 0.0 }
        );
    }
}
