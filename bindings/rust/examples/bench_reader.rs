//! bench_reader bb|bc NAME COUNT
//!
//! The Rust reader of the bindings benchmark (bindings/bench/bindings_bench.py): attaches to
//! the segment NAME the driver created -- `bb`: a credited byte-broadcast reader (64-byte
//! messages whose first 8 bytes are the sequence number 1..COUNT, little-endian); `bc`: a
//! subscriber of a lossless typed broadcast of `{ seq, check }` (seq 1..COUNT) -- prints
//! "ready", reads until the C++ writer closes, checks every message, and prints
//! "received N seconds S" (first message to last). Exit 1 on a wrong or missing message,
//! 2 on a usage or attach error.
use std::process::exit;
use std::time::Instant;

use ringwire::{BbReader, BcSubscriber, Recv, Segment};

mod common;
use common::{check_of, Elem};

fn fail(what: &str, n: u64) -> ! {
    eprintln!("bench_reader: message {}: {}", n, what);
    exit(1)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count: Option<u64> = args.get(3).and_then(|s| s.parse().ok());
    if args.len() != 4 || count.is_none() || (args[1] != "bb" && args[1] != "bc") {
        eprintln!("usage: bench_reader bb|bc NAME COUNT");
        exit(2);
    }
    let count = count.unwrap_or(0);
    let seg = Segment::open(&args[2]).unwrap_or_else(|e| {
        eprintln!("bench_reader: {}", e);
        exit(2)
    });
    let mut n = 0u64;
    let (mut first, mut last) = (None, Instant::now());
    if args[1] == "bb" {
        let mut r = BbReader::credited(&seg).unwrap_or_else(|e| {
            eprintln!("bench_reader: {}", e);
            exit(2)
        });
        println!("ready");
        let mut buf = vec![0u8; 4096];
        loop {
            match r.read_for(&mut buf, std::time::Duration::from_secs(60)) {
                Ok(Recv::Msg(info)) => {
                    last = Instant::now();
                    first.get_or_insert(last);
                    n += 1;
                    let mut seq = [0u8; 8];
                    seq.copy_from_slice(&buf[..8]);
                    if info.size < 8 || u64::from_le_bytes(seq) != n {
                        fail("out of sequence", n);
                    }
                }
                Ok(Recv::Closed) => break,
                Ok(_) => fail("not a message", n + 1),
                Err(e) => fail(&e.to_string(), n + 1),
            }
        }
    } else {
        let mut s = BcSubscriber::<Elem>::attach(&seg).unwrap_or_else(|e| {
            eprintln!("bench_reader: {}", e);
            exit(2)
        });
        println!("ready");
        loop {
            match s.recv_for(std::time::Duration::from_secs(60)) {
                Ok(Recv::Msg(e)) => {
                    last = Instant::now();
                    first.get_or_insert(last);
                    n += 1;
                    if e.seq != n || e.check != check_of(n) {
                        fail("out of sequence or a bad check", n);
                    }
                }
                Ok(Recv::Closed) => break,
                Ok(_) => fail("not a message", n + 1),
                Err(e) => fail(&e.to_string(), n + 1),
            }
        }
    }
    if n != count {
        eprintln!("bench_reader: received {} of {}", n, count);
        exit(1);
    }
    let secs = first.map(|f| last.duration_since(f).as_secs_f64()).unwrap_or(0.0);
    println!("received {} seconds {:.9}", n, secs);
}
