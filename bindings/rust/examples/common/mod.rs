//! The element the cross-language example programs carry (bindings/python/examples and
//! bindings/tests/cross_language_test.cpp use the same): `{ seq, check }` with
//! `check = seq * 0x9E3779B97F4A7C15` (wrapping), so a reader can verify every message alone.
use ringwire::Pod;

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Elem {
    pub seq: u64,
    pub check: u64,
}
// SAFETY: #[repr(C)], two u64: every bit pattern is a valid Elem; 16 bytes, aligned to 8.
unsafe impl Pod for Elem {}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// What `check` must be for `seq`.
#[allow(dead_code)] // each example uses what it needs
pub fn check_of(seq: u64) -> u64 {
    seq.wrapping_mul(GOLDEN)
}

/// The element numbered `seq`.
#[allow(dead_code)]
pub fn stamped(seq: u64) -> Elem {
    Elem { seq, check: check_of(seq) }
}
