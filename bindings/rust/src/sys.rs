//! Raw declarations of the C API (bindings/c/include/ringwire/ringwire_c.h), written by hand
//! to match it exactly. Enumerations that the library returns (`rw_status`, `rw_errc`,
//! `rw_kind`) are received as `c_int` and converted by the safe layer: a value this crate
//! does not know is never undefined behaviour. Everything here is `unsafe` to call; the
//! crate's root module wraps it.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_long, c_void};

// ---- rw_status ------------------------------------------------------------------------
pub type rw_status = c_int;

/// The ABI version of the header these declarations were written from (RW_ABI_VERSION).
pub const RW_ABI_VERSION: c_int = 1;
pub const RW_OK: rw_status = 0;
pub const RW_FULL: rw_status = 1;
pub const RW_EMPTY: rw_status = 2;
pub const RW_CLOSED: rw_status = 3;
pub const RW_TIMED_OUT: rw_status = 4;
pub const RW_CANCELLED: rw_status = 5;
pub const RW_LAGGED: rw_status = 6;
pub const RW_EVICTED: rw_status = 7;
pub const RW_TOO_SMALL: rw_status = 8;
pub const RW_CORRUPT: rw_status = 9;
pub const RW_ERROR: rw_status = 100;

// ---- rw_errc (the values; the safe layer's `Errc` names them) --------------------------
pub type rw_errc = c_int;
pub const RW_E_NONE: rw_errc = 0;
pub const RW_E_INVALID_ARGUMENT: rw_errc = 1000;
pub const RW_E_INTERNAL: rw_errc = 1001;

// ---- rw_kind, rw_bc_policy --------------------------------------------------------------
pub type rw_kind = c_int;
pub const RW_KIND_SPSC: rw_kind = 1;
pub const RW_KIND_MPSC: rw_kind = 2;
pub const RW_KIND_BROADCAST: rw_kind = 3;
pub const RW_KIND_BYTE_RING: rw_kind = 4;
pub const RW_KIND_BYTE_BROADCAST: rw_kind = 5;

pub type rw_bc_policy = u32;
pub const RW_BC_LOSSY: rw_bc_policy = 0;
pub const RW_BC_LOSSLESS: rw_bc_policy = 1;
pub const RW_BC_EVICT: rw_bc_policy = 2;

pub const RW_MAX_ELEM_SIZE: u32 = 256;

// ---- opaque handles -------------------------------------------------------------------
macro_rules! opaque {
    ($($name:ident),* $(,)?) => {$(
        #[repr(C)]
        pub struct $name {
            _private: [u8; 0],
            // Not Send, not Sync, not Unpin: the safe wrappers decide.
            _marker: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
        }
    )*};
}
opaque!(
    rw_segment,
    rw_spsc_sender,
    rw_spsc_receiver,
    rw_mpsc_sender,
    rw_mpsc_receiver,
    rw_bc_publisher,
    rw_bc_subscriber,
    rw_br_writer,
    rw_br_reader,
    rw_bb_writer,
    rw_bb_reader,
);

// ---- structs (layouts checked against the C compiler's: tests/segment.rs) ------------------
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rw_segment_info {
    pub kind: rw_kind,
    pub capacity: u64,
    pub elem_size: u32,
    pub elem_align: u32,
    pub type_tag: u64,
    pub endpoints: u32,
    pub policy: u32,
    pub region_bytes: u64,
    pub creator_pid: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rw_counter {
    pub role: *const c_char,
    pub index: u32,
    pub key: *const c_char,
    pub value: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rw_br_record {
    pub type_: i32,
    pub data: *const c_void,
    pub size: usize,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct rw_bb_geometry {
    pub depth: u64,
    pub region_bytes: u64,
    pub max_message: u64,
    pub max_credited: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct rw_bb_info {
    pub seq: u64,
    pub signature: u64,
    pub tspub: u64,
    pub size: u32,
    pub ctl: u16,
}

extern "C" {
    pub fn rw_version() -> *const c_char;
    pub fn rw_abi_version() -> c_int;
    // errors
    pub fn rw_last_errc() -> rw_errc;
    pub fn rw_last_error() -> *const c_char;
    pub fn rw_status_name(s: rw_status) -> *const c_char;

    // segments (every kind)
    pub fn rw_open(name: *const c_char) -> *mut rw_segment;
    pub fn rw_open_fd(fd: c_int) -> *mut rw_segment;
    pub fn rw_segment_fd(seg: *const rw_segment) -> c_int;
    pub fn rw_segment_describe(seg: *const rw_segment, out: *mut rw_segment_info) -> c_int;
    pub fn rw_segment_close(seg: *mut rw_segment);
    pub fn rw_unlink(name: *const c_char) -> c_int;
    pub fn rw_reap(seg: *mut rw_segment) -> c_int;
    pub fn rw_segment_counters(seg: *const rw_segment, out: *mut rw_counter, cap: usize) -> c_long;

    // typed kinds
    pub fn rw_spsc_create(name: *const c_char, capacity: u64, elem_size: u32, type_tag: u64) -> *mut rw_segment;
    pub fn rw_mpsc_create(
        name: *const c_char,
        lane_capacity: u64,
        max_producers: u32,
        elem_size: u32,
        type_tag: u64,
    ) -> *mut rw_segment;
    pub fn rw_bc_create(
        name: *const c_char,
        capacity: u64,
        max_subscribers: u32,
        policy: u32, // an rw_bc_policy value
        elem_size: u32,
        type_tag: u64,
    ) -> *mut rw_segment;

    pub fn rw_spsc_sender_attach(seg: *mut rw_segment, elem_size: u32, type_tag: u64) -> *mut rw_spsc_sender;
    pub fn rw_spsc_try_send(tx: *mut rw_spsc_sender, elem: *const c_void) -> rw_status;
    pub fn rw_spsc_send_for(tx: *mut rw_spsc_sender, elem: *const c_void, timeout_ns: u64) -> rw_status;
    pub fn rw_spsc_try_send_n(tx: *mut rw_spsc_sender, elems: *const c_void, n: usize) -> usize;
    pub fn rw_spsc_reserve(
        tx: *mut rw_spsc_sender,
        n: usize,
        slots: *mut *mut c_void,
        granted: *mut usize,
    ) -> rw_status;
    pub fn rw_spsc_commit(tx: *mut rw_spsc_sender, k: usize) -> rw_status;
    pub fn rw_spsc_sender_close(tx: *mut rw_spsc_sender);

    pub fn rw_spsc_receiver_attach(seg: *mut rw_segment, elem_size: u32, type_tag: u64) -> *mut rw_spsc_receiver;
    pub fn rw_spsc_try_recv(rx: *mut rw_spsc_receiver, out: *mut c_void) -> rw_status;
    pub fn rw_spsc_recv_for(rx: *mut rw_spsc_receiver, out: *mut c_void, timeout_ns: u64) -> rw_status;
    pub fn rw_spsc_try_recv_n(rx: *mut rw_spsc_receiver, out: *mut c_void, max: usize) -> usize;
    pub fn rw_spsc_read_span(rx: *mut rw_spsc_receiver, first: *mut *const c_void, n: *mut usize) -> rw_status;
    pub fn rw_spsc_release(rx: *mut rw_spsc_receiver, k: usize) -> rw_status;
    pub fn rw_spsc_receiver_close(rx: *mut rw_spsc_receiver);

    pub fn rw_mpsc_sender_attach(seg: *mut rw_segment, elem_size: u32, type_tag: u64) -> *mut rw_mpsc_sender;
    pub fn rw_mpsc_try_send(tx: *mut rw_mpsc_sender, elem: *const c_void) -> rw_status;
    pub fn rw_mpsc_send_for(tx: *mut rw_mpsc_sender, elem: *const c_void, timeout_ns: u64) -> rw_status;
    pub fn rw_mpsc_sender_close(tx: *mut rw_mpsc_sender);
    pub fn rw_mpsc_receiver_attach(seg: *mut rw_segment, elem_size: u32, type_tag: u64) -> *mut rw_mpsc_receiver;
    pub fn rw_mpsc_try_recv(rx: *mut rw_mpsc_receiver, out: *mut c_void) -> rw_status;
    pub fn rw_mpsc_recv_for(rx: *mut rw_mpsc_receiver, out: *mut c_void, timeout_ns: u64) -> rw_status;
    pub fn rw_mpsc_receiver_close(rx: *mut rw_mpsc_receiver);
    pub fn rw_mpsc_close_producers(seg: *mut rw_segment) -> c_int;

    pub fn rw_bc_publisher_attach(seg: *mut rw_segment, elem_size: u32, type_tag: u64) -> *mut rw_bc_publisher;
    pub fn rw_bc_try_send(p: *mut rw_bc_publisher, elem: *const c_void) -> rw_status;
    pub fn rw_bc_send_for(p: *mut rw_bc_publisher, elem: *const c_void, timeout_ns: u64) -> rw_status;
    pub fn rw_bc_publisher_close(p: *mut rw_bc_publisher);
    pub fn rw_bc_subscriber_attach(seg: *mut rw_segment, elem_size: u32, type_tag: u64) -> *mut rw_bc_subscriber;
    pub fn rw_bc_try_recv(s: *mut rw_bc_subscriber, out: *mut c_void, missed: *mut u64) -> rw_status;
    pub fn rw_bc_recv_for(s: *mut rw_bc_subscriber, out: *mut c_void, timeout_ns: u64, missed: *mut u64) -> rw_status;
    pub fn rw_bc_subscriber_close(s: *mut rw_bc_subscriber);

    // byte ring
    pub fn rw_br_create(
        name: *const c_char,
        capacity_bytes: u64,
        many_to_one: c_int,
        max_writers: u32,
    ) -> *mut rw_segment;
    pub fn rw_br_writer_attach(seg: *mut rw_segment) -> *mut rw_br_writer;
    pub fn rw_br_writer_clone(w: *const rw_br_writer) -> *mut rw_br_writer;
    pub fn rw_br_try_write(w: *mut rw_br_writer, type_: i32, data: *const c_void, size: usize) -> rw_status;
    pub fn rw_br_write_for(
        w: *mut rw_br_writer,
        type_: i32,
        data: *const c_void,
        size: usize,
        timeout_ns: u64,
    ) -> rw_status;
    pub fn rw_br_reserve(w: *mut rw_br_writer, n: usize, data: *mut *mut c_void) -> rw_status;
    pub fn rw_br_commit(w: *mut rw_br_writer, type_: i32, used: usize) -> rw_status;
    pub fn rw_br_abort(w: *mut rw_br_writer) -> rw_status;
    pub fn rw_br_writer_close(w: *mut rw_br_writer);
    pub fn rw_br_close_writers(seg: *mut rw_segment) -> c_int;
    pub fn rw_br_reader_attach(seg: *mut rw_segment) -> *mut rw_br_reader;
    pub fn rw_br_try_read(r: *mut rw_br_reader, rec: *mut rw_br_record) -> rw_status;
    pub fn rw_br_read_for(r: *mut rw_br_reader, rec: *mut rw_br_record, timeout_ns: u64) -> rw_status;
    pub fn rw_br_release(r: *mut rw_br_reader);
    pub fn rw_br_recover(seg: *mut rw_segment, r: *mut rw_br_reader) -> c_long;
    pub fn rw_br_reader_close(r: *mut rw_br_reader);

    // byte broadcast
    pub fn rw_bb_create(name: *const c_char, g: *const rw_bb_geometry) -> *mut rw_segment;
    pub fn rw_bb_open(name: *const c_char) -> *mut rw_segment;
    pub fn rw_bb_segment_geometry(seg: *const rw_segment, out: *mut rw_bb_geometry) -> c_int;
    pub fn rw_bb_reap(seg: *mut rw_segment) -> c_int;
    pub fn rw_bb_writer_attach(seg: *mut rw_segment) -> *mut rw_bb_writer;
    pub fn rw_bb_try_write(w: *mut rw_bb_writer, signature: u64, data: *const c_void, size: usize) -> rw_status;
    pub fn rw_bb_write_for(
        w: *mut rw_bb_writer,
        signature: u64,
        data: *const c_void,
        size: usize,
        timeout_ns: u64,
    ) -> rw_status;
    pub fn rw_bb_skip(w: *mut rw_bb_writer, g: u64) -> rw_status;
    pub fn rw_bb_writer_close(w: *mut rw_bb_writer);
    pub fn rw_bb_reader_attach(seg: *mut rw_segment, credited: c_int) -> *mut rw_bb_reader;
    pub fn rw_bb_try_read(
        r: *mut rw_bb_reader,
        buf: *mut c_void,
        cap: usize,
        info: *mut rw_bb_info,
        missed: *mut u64,
    ) -> rw_status;
    pub fn rw_bb_read_for(
        r: *mut rw_bb_reader,
        buf: *mut c_void,
        cap: usize,
        timeout_ns: u64,
        info: *mut rw_bb_info,
        missed: *mut u64,
    ) -> rw_status;
    pub fn rw_bb_reader_close(r: *mut rw_bb_reader);
}
