//! mpsc_producer NAME COUNT [STOP_AFTER]
//!
//! Attaches a sender (its own lane) to the typed MPSC segment NAME, whose element is
//! `#[repr(C)] struct { seq: u64, check: u64 }` with `check = seq * 0x9E3779B97F4A7C15`
//! (wrapping), and sends seq 0 .. COUNT, waiting with send_for while the lane is full.
//! With STOP_AFTER, it stops after sending that many and sleeps for ever (holding its lane)
//! so a test can kill -9 it; it prints "stopped N" first. Prints "sent N" at the end.
//! Exit 0: all sent; 2: an error, the receiver gone, or no room for 60 s.
use std::io::Write;
use std::process::exit;
use std::time::{Duration, Instant};

use ringwire::{MpscSender, Segment, SendStatus};

mod common;
use common::{stamped, Elem};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count: Option<u64> = args.get(2).and_then(|s| s.parse().ok());
    if args.len() < 3 || count.is_none() {
        eprintln!("usage: mpsc_producer NAME COUNT [STOP_AFTER]");
        exit(2);
    }
    let count = count.unwrap();
    let stop_after: Option<u64> = args.get(3).and_then(|s| s.parse().ok());
    let mut tx = match Segment::open(&args[1]).and_then(|seg| MpscSender::<Elem>::attach(&seg)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mpsc_producer: {}: {}", args[1], e);
            exit(2);
        }
    };
    for seq in 0..count {
        if stop_after == Some(seq) {
            println!("stopped {}", seq);
            let _ = std::io::stdout().flush();
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        let e = stamped(seq);
        let t0 = Instant::now();
        loop {
            match tx.send_for(e, Duration::from_millis(200)) {
                Ok(SendStatus::Sent) => break,
                Ok(SendStatus::TimedOut) | Ok(SendStatus::Full) if t0.elapsed() < Duration::from_secs(60) => {}
                Ok(s) => {
                    eprintln!("mpsc_producer: seq {}: {:?}", seq, s);
                    exit(2);
                }
                Err(err) => {
                    eprintln!("mpsc_producer: seq {}: {}", seq, err);
                    exit(2);
                }
            }
        }
    }
    println!("sent {}", count);
}
