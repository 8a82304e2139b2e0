//! What sends, receives and reservations return besides an [`Error`](crate::Error).
use std::os::raw::c_int;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::sys;

/// The outcome of a send or a write that did not fail: the C statuses `RW_OK`, `RW_FULL`,
/// `RW_CLOSED`, `RW_TIMED_OUT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub enum SendStatus {
    /// Sent (written, published).
    Sent,
    /// No room now (`try_*`): the receiver, a lossless subscriber or a credited reader is
    /// behind. The message was not sent.
    Full,
    /// The receiving side is gone (or the stream was closed): nothing will be read.
    Closed,
    /// No room within the timeout (`*_for`). The message was not sent.
    TimedOut,
}

impl SendStatus {
    pub fn is_sent(self) -> bool {
        self == SendStatus::Sent
    }
}

/// The outcome of a receive or a read that did not fail. Which variants a call can return
/// is documented on it: the point-to-point kinds never lag; only the byte-broadcast reader
/// into a slice sees `TooSmall`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub enum Recv<T> {
    /// A message.
    Msg(T),
    /// Nothing queued now (`try_*`).
    Empty,
    /// Nothing within the timeout (`*_for`).
    TimedOut,
    /// The sending side is gone and everything it sent has been read.
    Closed,
    /// Broadcast kinds: exactly this many messages were lost (overwritten before this reader
    /// got to them, or skipped by the writer) before the next one. Nothing was received;
    /// the next call returns the next message.
    Lagged(u64),
    /// Typed broadcast with the evict policy: this subscriber fell too far behind and was
    /// evicted by the publisher.
    Evicted,
    /// Byte broadcast: an impossible entry was skipped (counted as one message missed).
    Corrupt,
    /// Byte broadcast, reading into a slice: the next message is this many bytes, more than
    /// the slice holds. Nothing was consumed: read again with a larger buffer.
    TooSmall(usize),
}

impl<T> Recv<T> {
    /// The message, if this is one.
    pub fn msg(self) -> Option<T> {
        match self {
            Recv::Msg(m) => Some(m),
            _ => None,
        }
    }

    pub fn is_msg(&self) -> bool {
        matches!(self, Recv::Msg(_))
    }

    /// `Closed` or `Evicted`: this endpoint will receive nothing more.
    pub fn is_end(&self) -> bool {
        matches!(self, Recv::Closed | Recv::Evicted)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Recv<U> {
        match self {
            Recv::Msg(m) => Recv::Msg(f(m)),
            Recv::Empty => Recv::Empty,
            Recv::TimedOut => Recv::TimedOut,
            Recv::Closed => Recv::Closed,
            Recv::Lagged(n) => Recv::Lagged(n),
            Recv::Evicted => Recv::Evicted,
            Recv::Corrupt => Recv::Corrupt,
            Recv::TooSmall(n) => Recv::TooSmall(n),
        }
    }
}

/// The outcome of a zero-copy reservation that did not fail.
#[must_use]
pub enum Reserve<G> {
    /// Room granted: fill it through the guard, then commit (dropping the guard abandons it).
    Granted(G),
    /// No room now.
    Full,
    /// The receiving side is gone.
    Closed,
}

impl<G> Reserve<G> {
    /// The guard, if room was granted.
    pub fn granted(self) -> Option<G> {
        match self {
            Reserve::Granted(g) => Some(g),
            _ => None,
        }
    }
}

/// Nanoseconds for the C timed calls (saturating: a `Duration` of centuries waits "forever").
pub(crate) fn ns(d: Duration) -> u64 {
    let n = d.as_nanos();
    if n > u64::MAX as u128 {
        u64::MAX
    } else {
        n as u64
    }
}

pub(crate) fn send_status(call: &str, s: c_int) -> Result<SendStatus> {
    match s {
        sys::RW_OK => Ok(SendStatus::Sent),
        sys::RW_FULL => Ok(SendStatus::Full),
        sys::RW_CLOSED => Ok(SendStatus::Closed),
        sys::RW_TIMED_OUT => Ok(SendStatus::TimedOut),
        sys::RW_ERROR => Err(Error::last(call)),
        other => Err(Error::unexpected(call, other)),
    }
}

/// A receive's status; `msg` runs only for `RW_OK`, `missed` is read only for `RW_LAGGED`
/// and `size` only for `RW_TOO_SMALL`.
pub(crate) fn recv_status<T>(
    call: &str,
    s: c_int,
    msg: impl FnOnce() -> T,
    missed: u64,
    size: usize,
) -> Result<Recv<T>> {
    match s {
        sys::RW_OK => Ok(Recv::Msg(msg())),
        sys::RW_EMPTY => Ok(Recv::Empty),
        sys::RW_TIMED_OUT => Ok(Recv::TimedOut),
        sys::RW_CLOSED => Ok(Recv::Closed),
        sys::RW_LAGGED => Ok(Recv::Lagged(missed)),
        sys::RW_EVICTED => Ok(Recv::Evicted),
        sys::RW_CORRUPT => Ok(Recv::Corrupt),
        sys::RW_TOO_SMALL => Ok(Recv::TooSmall(size)),
        sys::RW_ERROR => Err(Error::last(call)),
        other => Err(Error::unexpected(call, other)),
    }
}
