//! bc_subscriber NAME [IDLE_SECONDS]
//!
//! Attaches a subscriber to the typed broadcast segment NAME, whose element is
//! `#[repr(C)] struct { seq: u64, check: u64 }` with `check = seq * 0x9E3779B97F4A7C15`
//! (wrapping), and reads until the publisher closes the stream. Every element's check is
//! verified, and the seqs must be consecutive from the first one received, a lag accounting
//! for exactly the gap it reports. Prints "ready" once attached, then "ok N missed M".
//! Exit 0: the stream closed and everything checked; 1: a mismatch; 2: no message for
//! IDLE_SECONDS (default 30), evicted, or an error.
use std::io::Write;
use std::process::exit;
use std::time::Duration;

use ringwire::{BcSubscriber, Recv, Segment};

mod common;
use common::{check_of, Elem};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 2 {
        eprintln!("usage: bc_subscriber NAME [IDLE_SECONDS]");
        exit(2);
    }
    let idle = Duration::from_secs(args.get(2).and_then(|s| s.parse().ok()).unwrap_or(30));
    let mut sub = match Segment::open(&args[1]).and_then(|seg| BcSubscriber::<Elem>::attach(&seg)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bc_subscriber: {}: {}", args[1], e);
            exit(2);
        }
    };
    println!("ready");
    let _ = std::io::stdout().flush();

    let (mut got, mut missed) = (0u64, 0u64);
    let mut next: Option<u64> = None; // the seq expected next
    loop {
        match sub.recv_for(idle) {
            Ok(Recv::Msg(e)) => {
                if e.check != check_of(e.seq) {
                    println!(
                        "mismatch: seq {} check {:#x}, expected {:#x}",
                        e.seq,
                        e.check,
                        check_of(e.seq)
                    );
                    exit(1);
                }
                if let Some(want) = next {
                    if e.seq != want {
                        println!("mismatch: seq {} after {}, expected {}", e.seq, want.wrapping_sub(1), want);
                        exit(1);
                    }
                }
                next = Some(e.seq.wrapping_add(1));
                got += 1;
            }
            Ok(Recv::Lagged(n)) => {
                missed += n;
                // A lag before the first message is a gap we cannot check.
                next = next.map(|s| s.wrapping_add(n));
            }
            Ok(Recv::Closed) => break,
            Ok(Recv::TimedOut) => {
                println!("timeout: no message for {:?} (ok {} missed {})", idle, got, missed);
                exit(2);
            }
            Ok(Recv::Evicted) => {
                println!("evicted (ok {} missed {})", got, missed);
                exit(2);
            }
            Ok(other) => {
                println!("unexpected {:?}", other);
                exit(2);
            }
            Err(e) => {
                println!("error: {}", e);
                exit(2);
            }
        }
    }
    println!("ok {} missed {}", got, missed);
}
