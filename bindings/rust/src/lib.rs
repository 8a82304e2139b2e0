//! Rust bindings to ringwire's shared-memory channels, over the C API (`libringwire_c`,
//! bindings/c/include/ringwire/ringwire_c.h): join segments beside C++, C and Python
//! processes.
//!
//! - [`Segment`]: create one per kind (exclusive), or [`Segment::open`] any kind by name;
//!   `info()`, `counters()`, `reap()`, `unlink()`. Dropping closes (never unlinks).
//! - Byte broadcast: [`BbWriter`], [`BbReader`] (lossy or credited).
//! - Byte ring: [`BrWriter`] (copy, or zero-copy [`BrWriter::reserve`]), [`BrReader`]
//!   (records read in place: [`Record`] borrows the reader until released).
//! - Typed kinds over [`Pod`] elements: [`SpscSender`] / [`SpscReceiver`] (with zero-copy
//!   [`SpscSlots`] / [`SpscSpan`]), [`MpscSender`] / [`MpscReceiver`], [`BcPublisher`] /
//!   [`BcSubscriber`].
//!
//! Failures are [`Error`]s ([`Errc`] mirrors `ringwire::errc`); the other outcomes are
//! values: [`SendStatus`], [`Recv`] (with [`Recv::Lagged`] carrying the exact number of
//! messages lost), [`Reserve`].
//!
//! ```no_run
//! use std::time::Duration;
//! use ringwire::{BcPolicy, BcPublisher, BcSubscriber, Pod, Recv, Segment};
//!
//! #[repr(C)]
//! #[derive(Clone, Copy, Debug)]
//! struct Tick { seq: u64, price: f64 }
//! unsafe impl Pod for Tick {}
//!
//! # fn main() -> ringwire::Result<()> {
//! let seg = Segment::create_broadcast::<Tick>("/ticks", 1024, 8, BcPolicy::Lossy)?;
//! let mut publisher = BcPublisher::<Tick>::attach(&seg)?;
//! let mut sub = BcSubscriber::<Tick>::attach(&Segment::open("/ticks")?)?;
//! let _ = publisher.try_send(Tick { seq: 1, price: 10.5 })?;
//! match sub.recv_for(Duration::from_secs(1))? {
//!     Recv::Msg(t) => println!("{:?}", t),
//!     Recv::Lagged(n) => println!("lost {}", n),
//!     Recv::Closed => println!("publisher gone"),
//!     other => println!("{:?}", other.map(|_| ())),
//! }
//! seg.unlink()?;
//! # Ok(()) }
//! ```
//!
//! Threads: a [`Segment`] is `Send + Sync`; endpoints are `Send` (one thread at a time) but
//! not `Sync`. Every endpoint holds its segment open, so a segment is closed only after its
//! endpoints (the C API's rule).
//!
//! ```compile_fail,E0277
//! fn shared<T: Sync>() {}
//! shared::<ringwire::BbReader>(); // an endpoint is not Sync
//! ```
//!
//! ```compile_fail,E0277
//! fn shared<T: Sync>() {}
//! shared::<ringwire::SpscSender<u64>>();
//! ```

pub mod sys;

mod byte_broadcast;
mod byte_ring;
mod error;
mod outcome;
mod pod;
mod segment;
mod typed;

pub use byte_broadcast::{BbInfo, BbReader, BbWriter};
pub use byte_ring::{BrReader, BrReservation, BrWriter, Record};
pub use error::{status_name, Errc, Error, Result};
pub use outcome::{Recv, Reserve, SendStatus};
pub use pod::Pod;
pub use segment::{unlink, BbGeometry, BcPolicy, Counter, Kind, Segment, SegmentInfo};
pub use typed::{BcPublisher, BcSubscriber, MpscReceiver, MpscSender, SpscReceiver, SpscSender, SpscSlots, SpscSpan};

/// The version of the libringwire_c this program loaded ("0.1.0").
pub fn library_version() -> &'static str {
    // SAFETY: rw_version returns a static NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(sys::rw_version()) }.to_str().unwrap_or("?")
}

/// Whether the loaded libringwire_c has the ABI these bindings were written for (a crate
/// built against one release and run with another's library says false).
pub fn abi_compatible() -> bool {
    // SAFETY: no arguments, no state.
    unsafe { sys::rw_abi_version() == sys::RW_ABI_VERSION }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}

    #[test]
    fn thread_markers() {
        send_sync::<Segment>();
        send_sync::<Error>();
        send::<BbWriter>();
        send::<BbReader>();
        send::<BrWriter>();
        send::<BrReader>();
        send::<SpscSender<u64>>();
        send::<SpscReceiver<u64>>();
        send::<MpscSender<[u8; 16]>>();
        send::<MpscReceiver<[u8; 16]>>();
        send::<BcPublisher<f64>>();
        send::<BcSubscriber<f64>>();
    }

    #[test]
    fn library_abi() {
        assert!(abi_compatible());
        assert_eq!(library_version().split('.').count(), 3);
    }
}
