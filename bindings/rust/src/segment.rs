//! [`Segment`]: a named shared-memory segment of any kind, created or opened.
use std::ffi::{CStr, CString};
use std::mem::{align_of, size_of};
use std::os::raw::c_int;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use crate::error::{Errc, Error, Result};
use crate::pod::Pod;
use crate::sys;

/// The kinds a segment's header records (`rw_kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    Spsc,
    Mpsc,
    Broadcast,
    ByteRing,
    ByteBroadcast,
    /// A kind this crate does not know.
    Other(i32),
}

impl Kind {
    pub(crate) fn from_c(v: c_int) -> Kind {
        match v {
            sys::RW_KIND_SPSC => Kind::Spsc,
            sys::RW_KIND_MPSC => Kind::Mpsc,
            sys::RW_KIND_BROADCAST => Kind::Broadcast,
            sys::RW_KIND_BYTE_RING => Kind::ByteRing,
            sys::RW_KIND_BYTE_BROADCAST => Kind::ByteBroadcast,
            v => Kind::Other(v),
        }
    }
}

/// A typed broadcast segment's policy when a subscriber is a ring behind (`rw_bc_policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BcPolicy {
    /// The publisher overwrites: the subscriber sees [`Recv::Lagged`](crate::Recv::Lagged)
    /// with the exact count lost.
    Lossy,
    /// The publisher waits (`try_send` says [`SendStatus::Full`](crate::SendStatus::Full)).
    Lossless,
    /// The publisher evicts the subscriber ([`Recv::Evicted`](crate::Recv::Evicted)).
    Evict,
}

impl BcPolicy {
    fn to_c(self) -> sys::rw_bc_policy {
        match self {
            BcPolicy::Lossy => sys::RW_BC_LOSSY,
            BcPolicy::Lossless => sys::RW_BC_LOSSLESS,
            BcPolicy::Evict => sys::RW_BC_EVICT,
        }
    }

    /// From a segment's recorded policy ([`SegmentInfo::policy`]).
    pub fn from_raw(v: u32) -> Option<BcPolicy> {
        match v {
            sys::RW_BC_LOSSY => Some(BcPolicy::Lossy),
            sys::RW_BC_LOSSLESS => Some(BcPolicy::Lossless),
            sys::RW_BC_EVICT => Some(BcPolicy::Evict),
            _ => None,
        }
    }
}

/// What a segment's header records (`rw_segment_info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    pub kind: Kind,
    /// SPSC, broadcast: messages; MPSC: per lane; byte ring: data bytes; byte broadcast:
    /// the ring's depth (messages).
    pub capacity: u64,
    /// Typed kinds: the element's size (byte kinds: 0).
    pub elem_size: u32,
    /// Typed kinds: the element's alignment (byte kinds: 0).
    pub elem_align: u32,
    /// Typed kinds: the C++ peer's `type_tag<T>::value` (0: none).
    pub type_tag: u64,
    /// MPSC: max producers; broadcast: max subscribers; byte ring: max writers
    /// (many-to-one); byte broadcast: max credited readers.
    pub endpoints: u32,
    /// Broadcast: [`BcPolicy::from_raw`]; byte ring: 1 one-to-one, 2 many-to-one; byte
    /// broadcast: informational.
    pub policy: u32,
    /// Byte broadcast: the payload region.
    pub region_bytes: u64,
    pub creator_pid: u32,
}

/// A byte-broadcast segment's geometry (`rw_bb_geometry`): `depth` and `region_bytes` powers
/// of two, `max_message` (a multiple of 8) at most `region_bytes / 2`, `max_credited`
/// lossless readers at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BbGeometry {
    pub depth: u64,
    pub region_bytes: u64,
    pub max_message: u64,
    pub max_credited: u32,
}

/// One of a segment's counters, as `ringwire stat` shows them (`rw_counter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter {
    /// `None`: channel-wide; `"claims"`; else the endpoint's role (`"subscriber"`, `"lane"`, ...).
    pub role: Option<&'static str>,
    /// The endpoint's entry (for per-endpoint roles).
    pub index: u32,
    pub key: &'static str,
    pub value: u64,
}

pub(crate) struct SegHandle {
    ptr: NonNull<sys::rw_segment>,
    name: String,
}

// SAFETY: the C API allows a segment handle to be used by any thread, concurrently.
unsafe impl Send for SegHandle {}
unsafe impl Sync for SegHandle {}

impl SegHandle {
    pub(crate) fn raw(&self) -> *mut sys::rw_segment {
        self.ptr.as_ptr()
    }
}

impl Drop for SegHandle {
    fn drop(&mut self) {
        // SAFETY: the last reference: every endpoint holds an Arc of this handle, so all of
        // them are closed already (the C API's rule: endpoints before their segment).
        unsafe { sys::rw_segment_close(self.ptr.as_ptr()) }
    }
}

/// A shared-memory segment, created (exclusively: [`Errc::ShmExists`] when the name is
/// taken) or opened by name with the geometry its header records.
///
/// Cheap to clone (an `Arc`), `Send + Sync`. Endpoints keep a clone, so the segment is
/// closed only after its last endpoint and last `Segment` are dropped. Closing never removes
/// the name: [`Segment::unlink`] (or [`unlink`]) does, and a created segment stays until
/// someone unlinks it.
#[derive(Clone)]
pub struct Segment {
    pub(crate) h: Arc<SegHandle>,
}

pub(crate) fn c_name(name: &str) -> Result<CString> {
    CString::new(name).map_err(|_| Error::new(Errc::InvalidArgument, format!("segment name {:?} has a NUL byte", name)))
}

pub(crate) fn check_pod<T: Pod>(what: &str) -> Result<u32> {
    let size = size_of::<T>();
    if align_of::<T>() > 8 {
        return Err(Error::new(
            Errc::ShmTypeMismatch,
            format!(
                "{}: align_of::<{}>() is {}, at most 8 is supported",
                what,
                std::any::type_name::<T>(),
                align_of::<T>()
            ),
        ));
    }
    if size == 0 || size > sys::RW_MAX_ELEM_SIZE as usize {
        return Err(Error::new(
            Errc::ShmTypeMismatch,
            format!(
                "{}: size_of::<{}>() is {}, not 1 to {}",
                what,
                std::any::type_name::<T>(),
                size,
                sys::RW_MAX_ELEM_SIZE
            ),
        ));
    }
    Ok(size as u32)
}

impl Segment {
    fn wrap(call: &str, name: &str, p: *mut sys::rw_segment) -> Result<Segment> {
        match NonNull::new(p) {
            Some(ptr) => Ok(Segment { h: Arc::new(SegHandle { ptr, name: name.to_string() }) }),
            None => Err(Error::last(call)),
        }
    }

    /// Opens an existing segment of any kind (`rw_open`).
    pub fn open(name: &str) -> Result<Segment> {
        let n = c_name(name)?;
        // SAFETY: n is a valid C string for the call.
        Segment::wrap("rw_open", name, unsafe { sys::rw_open(n.as_ptr()) })
    }

    /// Joins the segment behind a descriptor (an anonymous segment's, received over a UNIX
    /// socket or inherited) with the geometry its header records. The caller keeps `fd`; the
    /// segment holds its own duplicate.
    pub fn open_fd(fd: std::os::unix::io::RawFd) -> Result<Segment> {
        // SAFETY: any integer is a valid argument: a bad descriptor is an error, not UB.
        Segment::wrap("rw_open_fd", "", unsafe { sys::rw_open_fd(fd) })
    }

    /// An anonymous segment's descriptor (pass it to join it elsewhere); None for a named one.
    pub fn fd(&self) -> Option<std::os::unix::io::RawFd> {
        // SAFETY: valid segment handle.
        let fd = unsafe { sys::rw_segment_fd(self.h.raw()) };
        if fd >= 0 {
            Some(fd)
        } else {
            None
        }
    }

    /// Creates a byte-broadcast segment (`rw_bb_create`).
    pub fn create_byte_broadcast(name: &str, g: &BbGeometry) -> Result<Segment> {
        let n = c_name(name)?;
        let cg = sys::rw_bb_geometry {
            depth: g.depth,
            region_bytes: g.region_bytes,
            max_message: g.max_message,
            max_credited: g.max_credited,
        };
        // SAFETY: valid pointers for the call.
        Segment::wrap("rw_bb_create", name, unsafe { sys::rw_bb_create(n.as_ptr(), &cg) })
    }

    /// Opens a byte-broadcast segment (`rw_bb_open`; [`Segment::open`] opens every kind).
    pub fn open_byte_broadcast(name: &str) -> Result<Segment> {
        let n = c_name(name)?;
        // SAFETY: valid C string.
        Segment::wrap("rw_bb_open", name, unsafe { sys::rw_bb_open(n.as_ptr()) })
    }

    /// Creates a typed SPSC segment of `capacity` elements of `T` (`rw_spsc_create`).
    pub fn create_spsc<T: Pod>(name: &str, capacity: u64) -> Result<Segment> {
        let size = check_pod::<T>("create_spsc")?;
        let n = c_name(name)?;
        // SAFETY: valid C string.
        Segment::wrap("rw_spsc_create", name, unsafe { sys::rw_spsc_create(n.as_ptr(), capacity, size, T::TYPE_TAG) })
    }

    /// Creates a typed MPSC segment: up to `max_producers` senders, each with its own lane
    /// of `lane_capacity` elements (`rw_mpsc_create`).
    pub fn create_mpsc<T: Pod>(name: &str, lane_capacity: u64, max_producers: u32) -> Result<Segment> {
        let size = check_pod::<T>("create_mpsc")?;
        let n = c_name(name)?;
        // SAFETY: valid C string.
        Segment::wrap("rw_mpsc_create", name, unsafe {
            sys::rw_mpsc_create(n.as_ptr(), lane_capacity, max_producers, size, T::TYPE_TAG)
        })
    }

    /// Creates a typed broadcast segment (`rw_bc_create`).
    pub fn create_broadcast<T: Pod>(
        name: &str,
        capacity: u64,
        max_subscribers: u32,
        policy: BcPolicy,
    ) -> Result<Segment> {
        let size = check_pod::<T>("create_broadcast")?;
        let n = c_name(name)?;
        // SAFETY: valid C string.
        Segment::wrap("rw_bc_create", name, unsafe {
            sys::rw_bc_create(n.as_ptr(), capacity, max_subscribers, policy.to_c(), size, T::TYPE_TAG)
        })
    }

    /// Creates a one-to-one byte ring of `capacity_bytes` (a power of two, 64 .. 2^30).
    pub fn create_byte_ring(name: &str, capacity_bytes: u64) -> Result<Segment> {
        let n = c_name(name)?;
        // SAFETY: valid C string.
        Segment::wrap("rw_br_create", name, unsafe { sys::rw_br_create(n.as_ptr(), capacity_bytes, 0, 0) })
    }

    /// Creates a many-to-one byte ring: up to `max_writers` writers at once.
    pub fn create_byte_ring_many_to_one(name: &str, capacity_bytes: u64, max_writers: u32) -> Result<Segment> {
        let n = c_name(name)?;
        // SAFETY: valid C string.
        Segment::wrap("rw_br_create", name, unsafe { sys::rw_br_create(n.as_ptr(), capacity_bytes, 1, max_writers) })
    }

    /// The name this handle was created or opened with.
    pub fn name(&self) -> &str {
        &self.h.name
    }

    /// What the segment's header records (`rw_segment_describe`).
    pub fn info(&self) -> Result<SegmentInfo> {
        let mut out = sys::rw_segment_info::default();
        // SAFETY: valid handle and out pointer.
        if unsafe { sys::rw_segment_describe(self.h.raw(), &mut out) } != 0 {
            return Err(Error::last("rw_segment_describe"));
        }
        Ok(SegmentInfo {
            kind: Kind::from_c(out.kind),
            capacity: out.capacity,
            elem_size: out.elem_size,
            elem_align: out.elem_align,
            type_tag: out.type_tag,
            endpoints: out.endpoints,
            policy: out.policy,
            region_bytes: out.region_bytes,
            creator_pid: out.creator_pid,
        })
    }

    /// A byte-broadcast segment's geometry (`rw_bb_segment_geometry`).
    pub fn bb_geometry(&self) -> Result<BbGeometry> {
        let mut g = sys::rw_bb_geometry::default();
        // SAFETY: valid handle and out pointer.
        if unsafe { sys::rw_bb_segment_geometry(self.h.raw(), &mut g) } != 0 {
            return Err(Error::last("rw_bb_segment_geometry"));
        }
        Ok(BbGeometry {
            depth: g.depth,
            region_bytes: g.region_bytes,
            max_message: g.max_message,
            max_credited: g.max_credited,
        })
    }

    /// The channel's counters and state (`rw_segment_counters`).
    pub fn counters(&self) -> Result<Vec<Counter>> {
        let empty = sys::rw_counter { role: ptr::null(), index: 0, key: ptr::null(), value: 0 };
        let mut v: Vec<sys::rw_counter> = Vec::new();
        loop {
            // SAFETY: v holds v.len() writable entries.
            let n = unsafe { sys::rw_segment_counters(self.h.raw(), v.as_mut_ptr(), v.len()) };
            if n < 0 {
                return Err(Error::last("rw_segment_counters"));
            }
            let n = n as usize;
            if n <= v.len() {
                v.truncate(n);
                break;
            }
            v = vec![empty; n]; // grew since it was sized: ask again
        }
        Ok(v.iter()
            .map(|c| Counter {
                role: static_str(c.role),
                index: c.index,
                key: static_str(c.key).unwrap_or(""),
                value: c.value,
            })
            .collect())
    }

    /// One counter by role (`None`: channel-wide), index and key.
    pub fn counter(&self, role: Option<&str>, index: u32, key: &str) -> Result<Option<u64>> {
        Ok(self.counters()?.into_iter().find(|c| c.role == role && c.index == index && c.key == key).map(|c| c.value))
    }

    /// Crash recovery: endpoints whose claim names a dead process are closed as their
    /// detach would. Returns how many (`rw_reap`).
    pub fn reap(&self) -> Result<u32> {
        // SAFETY: valid handle.
        let n = unsafe { sys::rw_reap(self.h.raw()) };
        if n < 0 {
            return Err(Error::last("rw_reap"));
        }
        Ok(n as u32)
    }

    /// MPSC: no more senders may attach; the receiver sees `Closed` once every lane is
    /// drained and its sender detached.
    /// `Ok(true)` if this call closed it, `Ok(false)` if it was closed already.
    pub fn close_producers(&self) -> Result<bool> {
        // SAFETY: valid handle.
        match unsafe { sys::rw_mpsc_close_producers(self.h.raw()) } {
            n if n < 0 => Err(Error::last("rw_mpsc_close_producers")),
            n => Ok(n != 0),
        }
    }

    /// Many-to-one byte ring: no more writers; the reader sees `Closed` once drained.
    /// `Ok(true)` if this call closed it, `Ok(false)` if it was closed already.
    pub fn close_writers(&self) -> Result<bool> {
        // SAFETY: valid handle.
        match unsafe { sys::rw_br_close_writers(self.h.raw()) } {
            n if n < 0 => Err(Error::last("rw_br_close_writers")),
            n => Ok(n != 0),
        }
    }

    /// Removes the segment's name (`rw_unlink`): true if it was there. Handles already open
    /// keep working.
    pub fn unlink(&self) -> Result<bool> {
        unlink(&self.h.name)
    }

    /// The raw handle, for calls into `sys` (valid while this `Segment` lives).
    pub fn as_raw(&self) -> *mut sys::rw_segment {
        self.h.raw()
    }

    /// Checks that this segment carries `T` as `kind`: the kind, `size_of::<T>()` against
    /// the recorded element size, `align_of::<T>() <= 8`, and the type tag when both sides
    /// have one.
    pub(crate) fn check_typed<T: Pod>(&self, kind: Kind, what: &str) -> Result<()> {
        let size = check_pod::<T>(what)?;
        let info = self.info()?;
        if info.kind != kind {
            return Err(Error::new(
                Errc::ShmKindMismatch,
                format!("{}: segment {} is {:?}, not {:?}", what, self.name(), info.kind, kind),
            ));
        }
        if info.elem_size != size {
            return Err(Error::new(
                Errc::ShmTypeMismatch,
                format!(
                    "{}: size_of::<{}>() is {} but segment {} carries {}-byte elements",
                    what,
                    std::any::type_name::<T>(),
                    size,
                    self.name(),
                    info.elem_size
                ),
            ));
        }
        if T::TYPE_TAG != 0 && info.type_tag != 0 && T::TYPE_TAG != info.type_tag {
            return Err(Error::new(
                Errc::ShmTypeMismatch,
                format!("{}: type tag {:#x}, segment {} records {:#x}", what, T::TYPE_TAG, self.name(), info.type_tag),
            ));
        }
        Ok(())
    }
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment").field("name", &self.h.name).finish()
    }
}

fn static_str(p: *const std::os::raw::c_char) -> Option<&'static str> {
    if p.is_null() {
        return None;
    }
    // SAFETY: the C API documents counter strings as static.
    Some(unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("<not utf-8>"))
}

/// Removes a segment's name: `Ok(true)` removed, `Ok(false)` there was none (`rw_unlink`).
pub fn unlink(name: &str) -> Result<bool> {
    let n = c_name(name)?;
    // SAFETY: valid C string.
    match unsafe { sys::rw_unlink(n.as_ptr()) } {
        1 => Ok(true),
        0 => Ok(false),
        _ => Err(Error::last("rw_unlink")),
    }
}
