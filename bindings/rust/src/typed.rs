//! The typed kinds: SPSC, MPSC lanes and broadcast, generic over `T: Pod`. Elements are
//! copied in and out (`size_of::<T>()` bytes, laid out as the C++ peer's T), except through
//! SPSC's zero-copy reserve/commit and read_span/release.
use std::marker::PhantomData;
use std::mem::{align_of, MaybeUninit};
use std::ops::{Deref, DerefMut};
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Errc, Error, Result};
use crate::outcome::{ns, recv_status, send_status, Recv, Reserve, SendStatus};
use crate::pod::Pod;
use crate::segment::{Kind, SegHandle, Segment};
use crate::sys;

macro_rules! endpoint {
    ($(#[$doc:meta])* $name:ident, $raw:ty, $kind:expr, $attach:ident, $close:ident) => {
        $(#[$doc])*
        ///
        /// `Send` (one thread at a time: the methods take `&mut self`), not `Sync`. Keeps its
        /// segment open; dropping it closes the endpoint.
        pub struct $name<T: Pod> {
            raw: NonNull<$raw>,
            // SpscSender: a reservation guard was forgotten (mem::forget) with its C
            // reservation open; abandoned before the next send (`settle`). Unused elsewhere.
            #[allow(dead_code)]
            reserving: bool,
            _seg: Arc<SegHandle>,
            _t: PhantomData<(*mut (), fn(T) -> T)>,
        }

        // SAFETY: the C API allows an endpoint handle on one thread at a time; T values only
        // travel through it when T is Send.
        unsafe impl<T: Pod + Send> Send for $name<T> {}

        impl<T: Pod> $name<T> {
            /// Attaches to `seg`, after checking its kind and that `size_of::<T>()` is its
            /// element size (`ShmKindMismatch`, `ShmTypeMismatch`); the C library checks
            /// `T::TYPE_TAG` when it is not 0.
            pub fn attach(seg: &Segment) -> Result<$name<T>> {
                seg.check_typed::<T>($kind, stringify!($attach))?;
                // SAFETY: valid segment handle, kept alive by the Arc clone.
                let p = unsafe { sys::$attach(seg.h.raw(), std::mem::size_of::<T>() as u32, T::TYPE_TAG) };
                match NonNull::new(p) {
                    Some(raw) => Ok($name { raw, reserving: false, _seg: seg.h.clone(), _t: PhantomData }),
                    None => Err(Error::last(stringify!($attach))),
                }
            }

            /// The raw handle, for calls into `sys` (valid while this endpoint lives).
            pub fn as_raw(&mut self) -> *mut $raw {
                self.raw.as_ptr()
            }
        }

        impl<T: Pod> Drop for $name<T> {
            fn drop(&mut self) {
                // SAFETY: closed once, before the segment (held by the Arc).
                unsafe { sys::$close(self.raw.as_ptr()) }
            }
        }
    };
}

macro_rules! sends {
    ($name:ident, $try_send:ident, $send_for:ident) => {
        impl<T: Pod> $name<T> {
            #[inline]
            fn settle(&mut self) {
                if self.reserving {
                    self.abandon_leaked();
                }
            }

            /// `Sent`, `Full` (no room now), `Closed`.
            pub fn try_send(&mut self, v: T) -> Result<SendStatus> {
                self.settle();
                // SAFETY: valid handle; v is size_of::<T>() readable bytes (checked at attach).
                let s = unsafe { sys::$try_send(self.raw.as_ptr(), (&v as *const T).cast()) };
                send_status(stringify!($try_send), s)
            }

            /// Waits for room up to `timeout`: `Sent`, `TimedOut`, `Closed`.
            pub fn send_for(&mut self, v: T, timeout: Duration) -> Result<SendStatus> {
                self.settle();
                // SAFETY: as try_send.
                let s = unsafe { sys::$send_for(self.raw.as_ptr(), (&v as *const T).cast(), ns(timeout)) };
                send_status(stringify!($send_for), s)
            }
        }
    };
}

macro_rules! recvs {
    ($name:ident, $try_recv:ident, $recv_for:ident) => {
        impl<T: Pod> $name<T> {
            /// `Msg(v)`, `Empty`, `Closed` (the senders are gone and everything was read).
            pub fn try_recv(&mut self) -> Result<Recv<T>> {
                let mut out = MaybeUninit::<T>::uninit();
                // SAFETY: valid handle; out has room for size_of::<T>() bytes.
                let s = unsafe { sys::$try_recv(self.raw.as_ptr(), out.as_mut_ptr().cast()) };
                // SAFETY (assume_init): RW_OK filled all of out; T: Pod, any bytes are a T.
                recv_status(stringify!($try_recv), s, || unsafe { out.assume_init() }, 0, 0)
            }

            /// Waits up to `timeout`: `Msg(v)`, `TimedOut`, `Closed`.
            pub fn recv_for(&mut self, timeout: Duration) -> Result<Recv<T>> {
                let mut out = MaybeUninit::<T>::uninit();
                // SAFETY: as try_recv.
                let s = unsafe { sys::$recv_for(self.raw.as_ptr(), out.as_mut_ptr().cast(), ns(timeout)) };
                recv_status(stringify!($recv_for), s, || unsafe { out.assume_init() }, 0, 0)
            }
        }
    };
}

// ---- SPSC --------------------------------------------------------------------------------

endpoint!(
    /// The sender of an SPSC segment (one at a time).
    SpscSender, sys::rw_spsc_sender, Kind::Spsc, rw_spsc_sender_attach, rw_spsc_sender_close
);
sends!(SpscSender, rw_spsc_try_send, rw_spsc_send_for);

impl<T: Pod> SpscSender<T> {
    /// A reservation whose guard was leaked is abandoned, as dropping the guard would have
    /// done: the C sender must not send while one is open.
    #[cold]
    fn abandon_leaked(&mut self) {
        // SAFETY: valid handle with a reservation open.
        unsafe { sys::rw_spsc_commit(self.raw.as_ptr(), 0) };
        self.reserving = false;
    }

    /// Sends as many of `vs` as there is room for, in order; returns how many.
    pub fn try_send_slice(&mut self, vs: &[T]) -> usize {
        self.settle();
        // SAFETY: valid handle; vs.len() elements readable.
        unsafe { sys::rw_spsc_try_send_n(self.raw.as_ptr(), vs.as_ptr().cast(), vs.len()) }
    }

    /// Zero-copy: up to `n` free slots as one contiguous run, written in place. Fill them
    /// through the guard (`&mut [T]`, holding whatever bytes were there), then
    /// [`commit`](SpscSlots::commit) the first k; dropping the guard commits none.
    pub fn reserve(&mut self, n: usize) -> Result<Reserve<SpscSlots<'_, T>>> {
        self.settle();
        let mut slots: *mut std::os::raw::c_void = ptr::null_mut();
        let mut granted = 0usize;
        // SAFETY: valid handle and out pointers.
        let s = unsafe { sys::rw_spsc_reserve(self.raw.as_ptr(), n, &mut slots, &mut granted) };
        match send_status("rw_spsc_reserve", s)? {
            SendStatus::Sent => {}
            SendStatus::Full | SendStatus::TimedOut => return Ok(Reserve::Full),
            SendStatus::Closed => return Ok(Reserve::Closed),
        }
        if granted == 0 {
            return Ok(Reserve::Full); // nothing granted: no reservation is open
        }
        if slots.is_null() || (slots as usize) % align_of::<T>() != 0 || granted > n {
            // SAFETY: abandons the reservation.
            unsafe { sys::rw_spsc_commit(self.raw.as_ptr(), 0) };
            return Err(Error::new(Errc::Internal, "rw_spsc_reserve: slots misaligned or out of range"));
        }
        self.reserving = true; // until the guard commits or drops
        Ok(Reserve::Granted(SpscSlots { tx: self, ptr: slots.cast(), len: granted }))
    }
}

/// Reserved SPSC slots, written in place (`&mut [T]` through `Deref`). Commit the first k
/// with [`commit`](Self::commit); dropping the guard abandons them (commits none).
///
/// ```compile_fail,E0505
/// # fn f(tx: &mut ringwire::SpscSender<u64>) -> ringwire::Result<()> {
/// if let Some(mut slots) = tx.reserve(4)?.granted() {
///     let s: &mut [u64] = &mut slots;
///     slots.commit(4)?;   // published: the receiver owns them now...
///     s[0] = 1;           // ...so no writing through an old view: error[E0505]
/// }
/// # Ok(()) }
/// ```
pub struct SpscSlots<'a, T: Pod> {
    tx: &'a mut SpscSender<T>,
    ptr: *mut T,
    len: usize,
}

impl<'a, T: Pod> SpscSlots<'a, T> {
    /// Publishes the first `k` slots (`k <= len()`), in order.
    pub fn commit(self, k: usize) -> Result<()> {
        if k > self.len {
            return Err(Error::new(Errc::InvalidArgument, format!("commit({}) of {} reserved slots", k, self.len)));
        }
        let raw = self.tx.raw.as_ptr();
        self.tx.reserving = false;
        std::mem::forget(self);
        // SAFETY: valid handle with a reservation outstanding.
        match unsafe { sys::rw_spsc_commit(raw, k) } {
            sys::RW_OK => Ok(()),
            sys::RW_ERROR => Err(Error::last("rw_spsc_commit")),
            s => Err(Error::unexpected("rw_spsc_commit", s)),
        }
    }

    /// Publishes every slot.
    pub fn commit_all(self) -> Result<()> {
        let n = self.len;
        self.commit(n)
    }
}

impl<'a, T: Pod> Deref for SpscSlots<'a, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // SAFETY: len slots of T, aligned (checked), ours until commit; T: Pod.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl<'a, T: Pod> DerefMut for SpscSlots<'a, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as deref; the reservation is this guard's alone.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl<'a, T: Pod> Drop for SpscSlots<'a, T> {
    fn drop(&mut self) {
        self.tx.abandon_leaked(); // abandons the reservation
    }
}

endpoint!(
    /// The receiver of an SPSC segment (one at a time).
    SpscReceiver, sys::rw_spsc_receiver, Kind::Spsc, rw_spsc_receiver_attach, rw_spsc_receiver_close
);
recvs!(SpscReceiver, rw_spsc_try_recv, rw_spsc_recv_for);

impl<T: Pod> SpscReceiver<T> {
    /// Receives up to `out.len()` queued elements into `out`, in order; returns how many.
    pub fn try_recv_slice(&mut self, out: &mut [T]) -> usize {
        // Until it gives nothing: a run may end at the ring's wrap (one call, one run).
        let mut got = 0usize;
        while got < out.len() {
            let rest = &mut out[got..];
            // SAFETY: valid handle; rest has room for rest.len() elements (T: Pod).
            let n = unsafe { sys::rw_spsc_try_recv_n(self.raw.as_ptr(), rest.as_mut_ptr().cast(), rest.len()) };
            if n == 0 {
                break;
            }
            got += n.min(rest.len());
        }
        got
    }

    /// Zero-copy: the queued elements as one contiguous run, read in place (`&[T]` through
    /// the guard). [`release`](SpscSpan::release) consumes the first k; dropping the guard
    /// consumes them all. `Msg(span)`, `Empty`, `Closed`.
    pub fn read_span(&mut self) -> Result<Recv<SpscSpan<'_, T>>> {
        let mut first: *const std::os::raw::c_void = ptr::null();
        let mut n = 0usize;
        // SAFETY: valid handle and out pointers.
        let s = unsafe { sys::rw_spsc_read_span(self.raw.as_ptr(), &mut first, &mut n) };
        let r = recv_status("rw_spsc_read_span", s, || (), 0, 0)?;
        match r {
            Recv::Msg(()) if n == 0 => Ok(Recv::Empty),
            Recv::Msg(()) => {
                if first.is_null() || (first as usize) % align_of::<T>() != 0 {
                    return Err(Error::new(Errc::Internal, "rw_spsc_read_span: span misaligned"));
                }
                Ok(Recv::Msg(SpscSpan { rx: self, ptr: first.cast(), len: n }))
            }
            other => Ok(other.map(|()| unreachable!())),
        }
    }
}

/// Queued SPSC elements read in place (`&[T]` through `Deref`), valid while the guard lives:
/// [`release`](Self::release) consumes the first k, dropping the guard consumes all.
///
/// ```compile_fail,E0505
/// # fn f(rx: &mut ringwire::SpscReceiver<u64>) -> ringwire::Result<()> {
/// if let ringwire::Recv::Msg(span) = rx.read_span()? {
///     let first: &u64 = &span[0];
///     span.release(1);          // the slots go back to the sender...
///     println!("{}", first);    // ...so this view may not outlive it: error[E0505]
/// }
/// # Ok(()) }
/// ```
pub struct SpscSpan<'a, T: Pod> {
    rx: &'a mut SpscReceiver<T>,
    ptr: *const T,
    len: usize,
}

impl<'a, T: Pod> SpscSpan<'a, T> {
    /// Consumes the first `k` (clamped to `len()`); the rest stay queued and are read again.
    pub fn release(self, k: usize) {
        let raw = self.rx.raw.as_ptr();
        let k = k.min(self.len);
        std::mem::forget(self);
        // SAFETY: valid handle; k of the last span.
        unsafe { sys::rw_spsc_release(raw, k) };
    }
}

impl<'a, T: Pod> Deref for SpscSpan<'a, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // SAFETY: len elements, aligned (checked), not reused by the sender until release.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl<'a, T: Pod> Drop for SpscSpan<'a, T> {
    fn drop(&mut self) {
        // SAFETY: valid handle; the whole last span.
        unsafe { sys::rw_spsc_release(self.rx.raw.as_ptr(), self.len) };
    }
}

// ---- MPSC --------------------------------------------------------------------------------

endpoint!(
    /// A sender on an MPSC segment: each attaches its own lane (FIFO per sender), up to the
    /// segment's max producers.
    MpscSender, sys::rw_mpsc_sender, Kind::Mpsc, rw_mpsc_sender_attach, rw_mpsc_sender_close
);
sends!(MpscSender, rw_mpsc_try_send, rw_mpsc_send_for);
impl<T: Pod> MpscSender<T> {
    fn abandon_leaked(&mut self) {} // no reservations
}

endpoint!(
    /// The receiver of an MPSC segment (one at a time). `Closed` once
    /// [`Segment::close_producers`] was called and every lane is drained.
    MpscReceiver, sys::rw_mpsc_receiver, Kind::Mpsc, rw_mpsc_receiver_attach, rw_mpsc_receiver_close
);
recvs!(MpscReceiver, rw_mpsc_try_recv, rw_mpsc_recv_for);

// ---- broadcast -----------------------------------------------------------------------------

endpoint!(
    /// The publisher of a typed broadcast segment (one at a time). `try_send` says `Full`
    /// only under the lossless policy (a subscriber is a ring behind).
    BcPublisher, sys::rw_bc_publisher, Kind::Broadcast, rw_bc_publisher_attach, rw_bc_publisher_close
);
sends!(BcPublisher, rw_bc_try_send, rw_bc_send_for);
impl<T: Pod> BcPublisher<T> {
    fn abandon_leaked(&mut self) {} // no reservations
}

endpoint!(
    /// A subscriber of a typed broadcast segment: sees every message from the next one on,
    /// or is told exactly how many it lost.
    BcSubscriber, sys::rw_bc_subscriber, Kind::Broadcast, rw_bc_subscriber_attach, rw_bc_subscriber_close
);

impl<T: Pod> BcSubscriber<T> {
    /// `Msg(v)`, `Empty`, `Closed`, `Lagged(n)` (exactly n lost; nothing received),
    /// `Evicted` (evict policy).
    pub fn try_recv(&mut self) -> Result<Recv<T>> {
        let mut out = MaybeUninit::<T>::uninit();
        let mut missed = 0u64;
        // SAFETY: valid handle; out has room for size_of::<T>() bytes.
        let s = unsafe { sys::rw_bc_try_recv(self.raw.as_ptr(), out.as_mut_ptr().cast(), &mut missed) };
        // SAFETY (assume_init): RW_OK filled out; T: Pod.
        recv_status("rw_bc_try_recv", s, || unsafe { out.assume_init() }, missed, 0)
    }

    /// As [`try_recv`](Self::try_recv), waiting up to `timeout` (`TimedOut`).
    pub fn recv_for(&mut self, timeout: Duration) -> Result<Recv<T>> {
        let mut out = MaybeUninit::<T>::uninit();
        let mut missed = 0u64;
        // SAFETY: as try_recv.
        let s = unsafe { sys::rw_bc_recv_for(self.raw.as_ptr(), out.as_mut_ptr().cast(), ns(timeout), &mut missed) };
        recv_status("rw_bc_recv_for", s, || unsafe { out.assume_init() }, missed, 0)
    }
}
