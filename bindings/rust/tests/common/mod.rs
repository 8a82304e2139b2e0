// Shared by the integration tests: unique segment names, unlinked when the guard drops.
#![allow(dead_code)]
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A segment name unique to this process and call, unlinked (best effort) on drop, so a
/// failed test leaves nothing behind.
pub struct Name(pub String);

impl Name {
    pub fn new(tag: &str) -> Name {
        // Relaxed: only uniqueness matters; no other memory is published through it.
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("/rw-rs-{}-{}-{}", tag, std::process::id(), n);
        let _ = ringwire::unlink(&name);
        Name(name)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        let _ = ringwire::unlink(&self.0);
    }
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elem {
    pub seq: u64,
    pub check: u64,
}
unsafe impl ringwire::Pod for Elem {}

impl Elem {
    pub fn new(seq: u64) -> Elem {
        Elem { seq, check: seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) }
    }
}

pub const SEC: std::time::Duration = std::time::Duration::from_secs(5);
