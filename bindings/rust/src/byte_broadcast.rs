//! Byte broadcast: variable-length messages from one writer to every reader.
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::outcome::{ns, recv_status, send_status, Recv, SendStatus};
use crate::segment::{SegHandle, Segment};
use crate::sys;

/// A message's metadata (`rw_bb_info`); its bytes are in the caller's buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BbInfo {
    /// The message's sequence number (from 1).
    pub seq: u64,
    /// The writer's 64-bit tag for the message.
    pub signature: u64,
    /// The writer's steady clock at publish, ns.
    pub tspub: u64,
    /// The message's size in bytes.
    pub size: u32,
    pub ctl: u16,
}

impl BbInfo {
    fn from_c(i: &sys::rw_bb_info) -> BbInfo {
        BbInfo { seq: i.seq, signature: i.signature, tspub: i.tspub, size: i.size, ctl: i.ctl }
    }
}

// Endpoints: Send (the C API allows an endpoint on one thread at a time), not Sync (the
// raw pointer keeps them !Sync; `unsafe impl Send` below).
type NotSync = PhantomData<*mut ()>;

/// The byte-broadcast writer (one per segment at a time: a second attach fails with
/// `ShmAlreadyAttached`). Dropping it closes it: readers then see `Closed` once drained.
pub struct BbWriter {
    raw: NonNull<sys::rw_bb_writer>,
    _seg: Arc<SegHandle>,
    _not_sync: NotSync,
}

// SAFETY: the handle may move between threads (used by one at a time: &mut self).
unsafe impl Send for BbWriter {}

impl BbWriter {
    pub fn attach(seg: &Segment) -> Result<BbWriter> {
        // SAFETY: valid segment handle, kept alive by the Arc clone.
        let p = unsafe { sys::rw_bb_writer_attach(seg.h.raw()) };
        match NonNull::new(p) {
            Some(raw) => Ok(BbWriter { raw, _seg: seg.h.clone(), _not_sync: PhantomData }),
            None => Err(Error::last("rw_bb_writer_attach")),
        }
    }

    /// `Sent`, `Full` (credited readers are a ring behind), `Closed`; an error
    /// (`MessageTooLarge`) for a message over `max_message`.
    pub fn try_write(&mut self, signature: u64, data: &[u8]) -> Result<SendStatus> {
        // SAFETY: valid handle; data valid for data.len() bytes.
        let s = unsafe { sys::rw_bb_try_write(self.raw.as_ptr(), signature, data.as_ptr().cast(), data.len()) };
        send_status("rw_bb_try_write", s)
    }

    /// Waits for credits up to `timeout` (`TimedOut`).
    pub fn write_for(&mut self, signature: u64, data: &[u8], timeout: Duration) -> Result<SendStatus> {
        // SAFETY: as try_write.
        let s = unsafe {
            sys::rw_bb_write_for(self.raw.as_ptr(), signature, data.as_ptr().cast(), data.len(), ns(timeout))
        };
        send_status("rw_bb_write_for", s)
    }

    /// `g` sequence numbers that never carried a message: every reader counts them missed
    /// ([`Recv::Lagged`]).
    pub fn skip(&mut self, g: u64) -> Result<SendStatus> {
        // SAFETY: valid handle.
        send_status("rw_bb_skip", unsafe { sys::rw_bb_skip(self.raw.as_ptr(), g) })
    }

    pub fn as_raw(&mut self) -> *mut sys::rw_bb_writer {
        self.raw.as_ptr()
    }
}

impl Drop for BbWriter {
    fn drop(&mut self) {
        // SAFETY: closed once, before the segment (held by the Arc).
        unsafe { sys::rw_bb_writer_close(self.raw.as_ptr()) }
    }
}

/// A byte-broadcast reader: lossy (may lag, told by [`Recv::Lagged`] with the exact count)
/// or credited (lossless: holds the writer back). It starts at the next message.
pub struct BbReader {
    raw: NonNull<sys::rw_bb_reader>,
    max_message: usize,
    _seg: Arc<SegHandle>,
    _not_sync: NotSync,
}

// SAFETY: as BbWriter.
unsafe impl Send for BbReader {}

impl BbReader {
    /// A lossy reader.
    pub fn lossy(seg: &Segment) -> Result<BbReader> {
        BbReader::attach(seg, false)
    }

    /// A credited (lossless) reader: at most the geometry's `max_credited` at once.
    pub fn credited(seg: &Segment) -> Result<BbReader> {
        BbReader::attach(seg, true)
    }

    pub fn attach(seg: &Segment, credited: bool) -> Result<BbReader> {
        let max_message = seg.bb_geometry()?.max_message as usize;
        // SAFETY: valid segment handle, kept alive by the Arc clone.
        let p = unsafe { sys::rw_bb_reader_attach(seg.h.raw(), credited as i32) };
        match NonNull::new(p) {
            Some(raw) => Ok(BbReader { raw, max_message, _seg: seg.h.clone(), _not_sync: PhantomData }),
            None => Err(Error::last("rw_bb_reader_attach")),
        }
    }

    /// The segment's largest message: a buffer this big never sees `TooSmall`.
    pub fn max_message(&self) -> usize {
        self.max_message
    }

    /// One message into `buf`: `Msg(info)` (its `info.size` first bytes), `Empty`,
    /// `Closed`, `Lagged(n)`, `TooSmall(size)` (nothing consumed), `Corrupt`.
    pub fn try_read(&mut self, buf: &mut [u8]) -> Result<Recv<BbInfo>> {
        self.read_into(buf.as_mut_ptr(), buf.len(), None)
    }

    /// As [`try_read`](Self::try_read), waiting up to `timeout` (`TimedOut`).
    pub fn read_for(&mut self, buf: &mut [u8], timeout: Duration) -> Result<Recv<BbInfo>> {
        self.read_into(buf.as_mut_ptr(), buf.len(), Some(timeout))
    }

    /// One message into `buf`, replacing its contents (never `TooSmall`: the Vec grows).
    pub fn try_read_vec(&mut self, buf: &mut Vec<u8>) -> Result<Recv<BbInfo>> {
        self.read_vec(buf, None)
    }

    /// As [`try_read_vec`](Self::try_read_vec), waiting up to `timeout`.
    pub fn read_vec_for(&mut self, buf: &mut Vec<u8>, timeout: Duration) -> Result<Recv<BbInfo>> {
        self.read_vec(buf, Some(timeout))
    }

    fn read_vec(&mut self, buf: &mut Vec<u8>, timeout: Option<Duration>) -> Result<Recv<BbInfo>> {
        let mut want = self.max_message.max(8);
        loop {
            buf.clear();
            buf.reserve(want);
            // The C call writes at most cap bytes into the spare capacity; the length is set
            // to what it wrote only on success.
            let r = self.read_into(buf.as_mut_ptr(), buf.capacity(), timeout)?;
            match r {
                Recv::Msg(info) => {
                    // SAFETY: the library wrote info.size (<= capacity) bytes at buf's start.
                    unsafe { buf.set_len(info.size as usize) };
                    return Ok(r);
                }
                Recv::TooSmall(n) if n > buf.capacity() => want = n, // nothing consumed: again, with room
                Recv::TooSmall(n) => {
                    return Err(Error::new(
                        crate::Errc::Internal,
                        format!("rw_bb_read: too small for {} bytes with {} of room", n, buf.capacity()),
                    ))
                }
                other => return Ok(other),
            }
        }
    }

    fn read_into(&mut self, buf: *mut u8, cap: usize, timeout: Option<Duration>) -> Result<Recv<BbInfo>> {
        let mut info = sys::rw_bb_info::default();
        let mut missed = 0u64;
        // SAFETY: valid handle; buf writable for cap bytes; info/missed valid.
        let s = unsafe {
            match timeout {
                None => sys::rw_bb_try_read(self.raw.as_ptr(), buf.cast(), cap, &mut info, &mut missed),
                Some(t) => sys::rw_bb_read_for(self.raw.as_ptr(), buf.cast(), cap, ns(t), &mut info, &mut missed),
            }
        };
        let call = if timeout.is_some() { "rw_bb_read_for" } else { "rw_bb_try_read" };
        let r = recv_status(call, s, || BbInfo::from_c(&info), missed, info.size as usize)?;
        if let Recv::Msg(i) = r {
            if i.size as usize > cap {
                return Err(Error::unexpected(call, s)); // never: the library checks
            }
        }
        Ok(r)
    }

    pub fn as_raw(&mut self) -> *mut sys::rw_bb_reader {
        self.raw.as_ptr()
    }
}

impl Drop for BbReader {
    fn drop(&mut self) {
        // SAFETY: closed once, before the segment.
        unsafe { sys::rw_bb_reader_close(self.raw.as_ptr()) }
    }
}
