//! Byte ring: variable-length records with a type id (>= 1), one reader, one writer
//! (one-to-one) or up to `max_writers` writers (many-to-one).
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Errc, Error, Result};
use crate::outcome::{ns, recv_status, send_status, Recv, Reserve, SendStatus};
use crate::segment::{SegHandle, Segment};
use crate::sys;

type NotSync = PhantomData<*mut ()>;

/// A byte-ring writer (one-to-one: one at a time; many-to-one: one per process, any number
/// of threads through separate writers). `Send`, not `Sync`.
pub struct BrWriter {
    raw: NonNull<sys::rw_br_writer>,
    // A reservation guard was forgotten (mem::forget) with its C reservation open: aborted
    // before the next write or reserve (`settle`), as dropping the guard would have.
    reserving: bool,
    _seg: Arc<SegHandle>,
    _not_sync: NotSync,
}

// SAFETY: the C API allows an endpoint on one thread at a time (&mut self).
unsafe impl Send for BrWriter {}

impl BrWriter {
    #[inline]
    fn settle(&mut self) {
        if self.reserving {
            self.abort_open();
        }
    }

    fn abort_open(&mut self) {
        // SAFETY: valid handle; a no-op without an open reservation.
        unsafe { sys::rw_br_abort(self.raw.as_ptr()) };
        self.reserving = false;
    }

    pub fn attach(seg: &Segment) -> Result<BrWriter> {
        // SAFETY: valid segment handle, kept alive by the Arc clone.
        let p = unsafe { sys::rw_br_writer_attach(seg.h.raw()) };
        match NonNull::new(p) {
            Some(raw) => Ok(BrWriter { raw, reserving: false, _seg: seg.h.clone(), _not_sync: PhantomData }),
            None => Err(Error::last("rw_br_writer_attach")),
        }
    }

    /// Many-to-one: another writer of this process's claim, for another thread
    /// (`rw_br_writer_clone`); a one-to-one ring has one writer (`InvalidArgument`).
    pub fn try_clone(&self) -> Result<BrWriter> {
        // SAFETY: valid handle; only read.
        let p = unsafe { sys::rw_br_writer_clone(self.raw.as_ptr()) };
        match NonNull::new(p) {
            Some(raw) => Ok(BrWriter { raw, reserving: false, _seg: self._seg.clone(), _not_sync: PhantomData }),
            None => Err(Error::last("rw_br_writer_clone")),
        }
    }

    /// One record of type `ty` (>= 1): `Sent`, `Full`, `Closed`; an error for a bad type or
    /// a record larger than the ring allows.
    pub fn try_write(&mut self, ty: i32, data: &[u8]) -> Result<SendStatus> {
        self.settle();
        // SAFETY: valid handle; data readable.
        let s = unsafe { sys::rw_br_try_write(self.raw.as_ptr(), ty, data.as_ptr().cast(), data.len()) };
        send_status("rw_br_try_write", s)
    }

    /// Waits for room up to `timeout`: `Sent`, `TimedOut`, `Closed`.
    pub fn write_for(&mut self, ty: i32, data: &[u8], timeout: Duration) -> Result<SendStatus> {
        self.settle();
        // SAFETY: as try_write.
        let s = unsafe { sys::rw_br_write_for(self.raw.as_ptr(), ty, data.as_ptr().cast(), data.len(), ns(timeout)) };
        send_status("rw_br_write_for", s)
    }

    /// Zero-copy: exactly `n` bytes in the ring, written in place through the guard, then
    /// [`commit`](BrReservation::commit)ted (the first `used` bytes, as a record of a type);
    /// dropping the guard aborts.
    pub fn reserve(&mut self, n: usize) -> Result<Reserve<BrReservation<'_>>> {
        self.settle();
        let mut data: *mut std::os::raw::c_void = ptr::null_mut();
        // SAFETY: valid handle and out pointer.
        let s = unsafe { sys::rw_br_reserve(self.raw.as_ptr(), n, &mut data) };
        match send_status("rw_br_reserve", s)? {
            SendStatus::Sent => {}
            SendStatus::Full | SendStatus::TimedOut => return Ok(Reserve::Full),
            SendStatus::Closed => return Ok(Reserve::Closed),
        }
        if data.is_null() && n != 0 {
            // SAFETY: gives the reservation back.
            unsafe { sys::rw_br_abort(self.raw.as_ptr()) };
            return Err(Error::new(Errc::Internal, "rw_br_reserve: RW_OK without data"));
        }
        let ptr = if data.is_null() { NonNull::<u8>::dangling().as_ptr() } else { data.cast() };
        self.reserving = true; // until the guard commits or drops
        Ok(Reserve::Granted(BrReservation { w: self, ptr, len: n }))
    }

    pub fn as_raw(&mut self) -> *mut sys::rw_br_writer {
        self.raw.as_ptr()
    }
}

impl Drop for BrWriter {
    fn drop(&mut self) {
        // SAFETY: closed once, before the segment.
        unsafe { sys::rw_br_writer_close(self.raw.as_ptr()) }
    }
}

/// Reserved byte-ring room (`&mut [u8]` through `Deref`), exactly the size asked for.
/// [`commit`](Self::commit) publishes it as a record; dropping the guard aborts.
pub struct BrReservation<'a> {
    w: &'a mut BrWriter,
    ptr: *mut u8,
    len: usize,
}

impl<'a> BrReservation<'a> {
    /// Publishes the first `used` bytes (`used <= len()`) as one record of type `ty` (>= 1).
    /// On an error (a bad type or size) nothing is committed and the room is given back.
    pub fn commit(self, ty: i32, used: usize) -> Result<()> {
        // SAFETY: valid handle with a reservation outstanding.
        let r = match unsafe { sys::rw_br_commit(self.w.raw.as_ptr(), ty, used) } {
            sys::RW_OK => {
                self.w.reserving = false;
                Ok(())
            }
            s => {
                let e =
                    if s == sys::RW_ERROR { Error::last("rw_br_commit") } else { Error::unexpected("rw_br_commit", s) };
                self.w.abort_open(); // the failed commit left the reservation open: give it back
                Err(e)
            }
        };
        std::mem::forget(self); // settled above: no abort on drop
        r
    }

    /// Gives the room back (what dropping the guard does).
    pub fn abort(self) {
        drop(self)
    }
}

impl<'a> Deref for BrReservation<'a> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: len bytes of the ring, this writer's until commit or abort.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl<'a> DerefMut for BrReservation<'a> {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as deref.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl<'a> Drop for BrReservation<'a> {
    fn drop(&mut self) {
        self.w.abort_open(); // gives the reservation back
    }
}

/// The byte-ring reader (one at a time). `Send`, not `Sync`.
pub struct BrReader {
    raw: NonNull<sys::rw_br_reader>,
    seg: Arc<SegHandle>,
    _not_sync: NotSync,
}

// SAFETY: as BrWriter.
unsafe impl Send for BrReader {}

impl BrReader {
    pub fn attach(seg: &Segment) -> Result<BrReader> {
        // SAFETY: valid segment handle, kept alive by the Arc clone.
        let p = unsafe { sys::rw_br_reader_attach(seg.h.raw()) };
        match NonNull::new(p) {
            Some(raw) => Ok(BrReader { raw, seg: seg.h.clone(), _not_sync: PhantomData }),
            None => Err(Error::last("rw_br_reader_attach")),
        }
    }

    /// The next record, read in place: `Msg(record)`, `Empty`, `Closed`. The record borrows
    /// the reader until it is released (dropped, or [`Record::release`]).
    pub fn try_read(&mut self) -> Result<Recv<Record<'_>>> {
        let mut rec = sys::rw_br_record { type_: 0, data: ptr::null(), size: 0 };
        // SAFETY: valid handle and out pointer.
        let s = unsafe { sys::rw_br_try_read(self.raw.as_ptr(), &mut rec) };
        self.record("rw_br_try_read", s, rec)
    }

    /// As [`try_read`](Self::try_read), waiting up to `timeout` (`TimedOut`).
    pub fn read_for(&mut self, timeout: Duration) -> Result<Recv<Record<'_>>> {
        let mut rec = sys::rw_br_record { type_: 0, data: ptr::null(), size: 0 };
        // SAFETY: valid handle and out pointer. No record of ours is outstanding (each
        // borrows self), so the implicit release of earlier records ends no live view.
        let s = unsafe { sys::rw_br_read_for(self.raw.as_ptr(), &mut rec, ns(timeout)) };
        self.record("rw_br_read_for", s, rec)
    }

    fn record(&mut self, call: &str, s: std::os::raw::c_int, rec: sys::rw_br_record) -> Result<Recv<Record<'_>>> {
        if s == sys::RW_OK && rec.data.is_null() && rec.size != 0 {
            // SAFETY: gives the record back.
            unsafe { sys::rw_br_release(self.raw.as_ptr()) };
            return Err(Error::new(Errc::Internal, format!("{}: RW_OK without data", call)));
        }
        let data = if rec.data.is_null() { NonNull::<u8>::dangling().as_ptr() as *const u8 } else { rec.data.cast() };
        recv_status(call, s, move || Record { r: self, ty: rec.type_, data, len: rec.size }, 0, 0)
    }

    /// Reads up to `max` records now (`try_read`), calls `f(type, bytes)` on each in order,
    /// then gives them all back at once (cheaper than one release per record).
    /// `Msg(count)` when at least one was read, else the status (`Empty`, `Closed`).
    pub fn try_read_batch(&mut self, max: usize, mut f: impl FnMut(i32, &[u8])) -> Result<Recv<usize>> {
        struct ReleaseOnExit(*mut sys::rw_br_reader);
        impl Drop for ReleaseOnExit {
            fn drop(&mut self) {
                // SAFETY: gives back every record read (a panic in f included).
                unsafe { sys::rw_br_release(self.0) }
            }
        }
        let _release = ReleaseOnExit(self.raw.as_ptr());
        let mut count = 0usize;
        while count < max {
            let mut rec = sys::rw_br_record { type_: 0, data: ptr::null(), size: 0 };
            // SAFETY: valid handle and out pointer; the views end at the release above,
            // after the last f call.
            let s = unsafe { sys::rw_br_try_read(self.raw.as_ptr(), &mut rec) };
            if s != sys::RW_OK {
                if count > 0 && (s == sys::RW_EMPTY || s == sys::RW_CLOSED) {
                    break;
                }
                return recv_status("rw_br_try_read", s, || 0usize, 0, 0);
            }
            let bytes: &[u8] = if rec.size == 0 || rec.data.is_null() {
                &[]
            } else {
                // SAFETY: the record's bytes, valid until the release.
                unsafe { std::slice::from_raw_parts(rec.data.cast(), rec.size) }
            };
            f(rec.type_, bytes);
            count += 1;
        }
        Ok(if count == 0 { Recv::Empty } else { Recv::Msg(count) })
    }

    /// A many-to-one writer that died mid-record: reaps, then skips exactly its uncommitted
    /// record so the reader goes on (call it when a read times out). Records skipped.
    pub fn recover(&mut self) -> Result<u64> {
        // SAFETY: valid handles; no record view outstanding (&mut self).
        let n = unsafe { sys::rw_br_recover(self.seg.raw(), self.raw.as_ptr()) };
        if n < 0 {
            return Err(Error::last("rw_br_recover"));
        }
        Ok(n as u64)
    }

    pub fn as_raw(&mut self) -> *mut sys::rw_br_reader {
        self.raw.as_ptr()
    }
}

impl Drop for BrReader {
    fn drop(&mut self) {
        // SAFETY: closed once, before the segment.
        unsafe { sys::rw_br_reader_close(self.raw.as_ptr()) }
    }
}

/// A byte-ring record read in place (`&[u8]` through `Deref`), valid while the guard lives:
/// it borrows the reader mutably, and dropping it (or [`release`](Self::release)) gives the
/// room back to the writers.
///
/// ```compile_fail,E0505
/// # fn f(r: &mut ringwire::BrReader) -> ringwire::Result<()> {
/// let bytes: &[u8];
/// if let ringwire::Recv::Msg(rec) = r.try_read()? {
///     bytes = rec.data(); // borrows rec...
///     rec.release();      // ...which ends here: error[E0505]
///     println!("{:?}", bytes);
/// }
/// # Ok(()) }
/// ```
///
/// ```compile_fail,E0499
/// # fn f(r: &mut ringwire::BrReader) -> ringwire::Result<()> {
/// if let ringwire::Recv::Msg(a) = r.try_read()? {
///     let b = r.try_read()?; // the reader is still borrowed by `a`: error[E0499]
///     println!("{:?} {:?}", a.data(), b.is_msg());
/// }
/// # Ok(()) }
/// ```
pub struct Record<'a> {
    r: &'a mut BrReader,
    ty: i32,
    data: *const u8,
    len: usize,
}

impl<'a> Record<'a> {
    /// The record's type id.
    pub fn ty(&self) -> i32 {
        self.ty
    }

    /// The record's bytes (borrowing the record: they end with it).
    pub fn data(&self) -> &[u8] {
        // SAFETY: the record's bytes stay the reader's until the release in Drop.
        unsafe { std::slice::from_raw_parts(self.data, self.len) }
    }

    /// Gives the record back (what dropping it does).
    pub fn release(self) {
        drop(self)
    }
}

impl<'a> Deref for Record<'a> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.data()
    }
}

impl<'a> std::fmt::Debug for Record<'a> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record").field("ty", &self.ty).field("len", &self.len).finish()
    }
}

impl<'a> Drop for Record<'a> {
    fn drop(&mut self) {
        // SAFETY: valid handle; gives back this record (the only one outstanding).
        unsafe { sys::rw_br_release(self.r.raw.as_ptr()) }
    }
}
