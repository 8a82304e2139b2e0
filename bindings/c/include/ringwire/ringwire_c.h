/* ringwire/ringwire_c.h -- the C API: ringwire's shared-memory channels from C (and from
 * any language with a C FFI: the Python module and the Rust crate in bindings/ use it).
 *
 * A C program joins a ringwire segment beside C++ processes: the very segment layout and
 * protocols of include/ringwire/shm/, driven through opaque handles. Every shared-memory
 * kind: SPSC, MPSC lanes, typed broadcast (elements of a fixed size laid out as the C++
 * peer's T), byte ring and byte broadcast (variable-length messages). Nothing here throws:
 * every call that can fail returns an rw_status (or NULL, or -1) and leaves the reason in a
 * thread-local error: rw_last_errc() (one value per ringwire::errc, same order, from 1) and
 * rw_last_error() (the library's message).
 *
 * Thread safety: a segment handle may be used by any thread; an endpoint handle by one
 * thread at a time (as the C++ endpoints; move it between threads freely); closing a handle
 * while another thread uses it is undefined. Endpoint handles must be closed before the
 * segment handle they came from. Zero-copy pointers (rw_spsc_reserve / read_span,
 * rw_br_reserve / try_read) are valid until the call that ends them (commit, release,
 * abort, the next read_for) and must not be used after it.
 *
 *   rw_segment* seg = rw_bc_create("/ticks", 4096, 8, RW_BC_LOSSY, sizeof(tick), TICK_TAG);
 *   rw_bc_publisher* p = rw_bc_publisher_attach(seg, TICK_TAG);
 *   rw_bc_try_send(p, &t);
 *   // another process: seg = rw_open("/ticks"); s = rw_bc_subscriber_attach(seg, TICK_TAG);
 *   rw_status r = rw_bc_recv_for(s, &t, 1000000000, &missed);  // RW_OK, RW_LAGGED (missed) ...
 */
#ifndef RINGWIRE_RINGWIRE_C_H
#define RINGWIRE_RINGWIRE_C_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define RW_API __attribute__((visibility("default")))
#else
#define RW_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Outcomes: ringwire::status one to one, plus RW_ERROR (see rw_last_errc). */
typedef enum rw_status {
  RW_OK = 0,
  RW_FULL = 1,
  RW_EMPTY = 2,
  RW_CLOSED = 3,
  RW_TIMED_OUT = 4,
  RW_CANCELLED = 5,
  RW_LAGGED = 6,    /* *missed says how many messages were lost before the next one */
  RW_EVICTED = 7,
  RW_TOO_SMALL = 8, /* the buffer is smaller than the message (info->size); nothing consumed */
  RW_CORRUPT = 9,   /* an impossible entry was skipped (*missed == 1) */
  RW_ERROR = 100    /* a ringwire::error: rw_last_errc(), rw_last_error() */
} rw_status;

/* ringwire::errc one to one (same order), 0 = none. */
typedef enum rw_errc {
  RW_E_NONE = 0,
  RW_E_INVALID_CAPACITY = 1,
  RW_E_CAPACITY_TOO_LARGE = 2,
  RW_E_ALREADY_SPLIT = 3,
  RW_E_INVALID_OPTIONS = 4,
  RW_E_TOO_MANY_SUBSCRIBERS = 5,
  RW_E_INVALID_TOPIC = 6,
  RW_E_PUBLISHER_EXISTS = 7,
  RW_E_TYPE_MISMATCH = 8,
  RW_E_TOPIC_CONFLICT = 9,
  RW_E_TOO_MANY_PRODUCERS = 10,
  RW_E_SHM_EXISTS = 11,
  RW_E_SHM_NOT_FOUND = 12,
  RW_E_SHM_PERMISSION_DENIED = 13,
  RW_E_SHM_NOT_RINGWIRE = 14,
  RW_E_SHM_VERSION_MISMATCH = 15,
  RW_E_SHM_KIND_MISMATCH = 16,
  RW_E_SHM_TYPE_MISMATCH = 17,
  RW_E_SHM_CAPACITY_MISMATCH = 18,
  RW_E_SHM_TRUNCATED = 19,
  RW_E_SHM_INITIALISING = 20,
  RW_E_SHM_CORRUPT = 21,
  RW_E_SHM_ALREADY_ATTACHED = 22,
  RW_E_SHM_SYSTEM_ERROR = 23,
  RW_E_MESSAGE_TOO_LARGE = 24,
  RW_E_INVALID_MESSAGE_TYPE = 25,
  RW_E_RING_CORRUPT = 26,
  RW_E_SHM_NOT_A_SEGMENT = 27,
  RW_E_SHM_UNTRUSTED_OWNER = 28,
  RW_E_INVALID_CPU = 29,
  RW_E_INVALID_NUMA_NODE = 30,
  RW_E_HUGEPAGES_UNAVAILABLE = 31,
  RW_E_MEMORY_LOCK_DENIED = 32,
  RW_E_INVALID_ARGUMENT = 1000, /* a NULL handle or pointer where one is required */
  RW_E_INTERNAL = 1001          /* anything else the library threw (std::bad_alloc...) */
} rw_errc;

/* The last failure of a call on this thread (unchanged by successful calls). */
RW_API rw_errc rw_last_errc(void);
RW_API const char* rw_last_error(void);
RW_API const char* rw_status_name(int s); /* an rw_status; "unknown" for other values */

/* The library's version ("0.1.0") and the ABI version this header describes: a binding
 * built against one header checks rw_abi_version() == RW_ABI_VERSION at load. */
#define RW_ABI_VERSION 1
RW_API const char* rw_version(void);
RW_API int rw_abi_version(void);

typedef struct rw_segment rw_segment;

/* ---- segments (every kind) ---------------------------------------------------------------
 *
 * The kinds, as a segment's header records them (ringwire::shm::channel_kind). */
typedef enum rw_kind {
  RW_KIND_SPSC = 1,
  RW_KIND_MPSC = 2,
  RW_KIND_BROADCAST = 3,
  RW_KIND_BYTE_RING = 4,
  RW_KIND_BYTE_BROADCAST = 5
} rw_kind;

/* What a segment's header records (ringwire::shm::identity). */
typedef struct rw_segment_info {
  rw_kind kind;
  uint64_t capacity;     /* spsc, broadcast: messages; mpsc: per lane; byte ring: data bytes;
                            byte broadcast: the ring's depth (messages) */
  uint32_t elem_size;    /* typed kinds: sizeof(T); byte kinds: 0 */
  uint32_t elem_align;   /* typed kinds: alignof(T); byte kinds: 0 */
  uint64_t type_tag;     /* typed kinds: ringwire::shm::type_tag<T>::value; byte kinds: 0 */
  uint32_t endpoints;    /* mpsc: max producers; broadcast: max subscribers; byte ring: max
                            writers (many-to-one); byte broadcast: max credited readers */
  uint32_t policy;       /* broadcast: rw_bc_policy; byte ring: 1 one-to-one, 2 many-to-one;
                            byte broadcast: the kind's own word (informational) */
  uint64_t region_bytes; /* byte broadcast: the payload region */
  uint32_t creator_pid;
} rw_segment_info;

/* Opens an existing segment of any kind with the geometry its header records (validated
 * as an opener expecting exactly that). NULL on failure. Every create call takes a name
 * (created exclusively, owner-only; RW_E_SHM_EXISTS if taken; it stays until rw_unlink) or
 * NULL: an anonymous segment (memfd) that other processes join by its descriptor --
 * rw_segment_fd, passed over a UNIX socket (SCM_RIGHTS) or inherited across fork -- with
 * rw_open_fd (the caller keeps its fd; the segment holds a duplicate). */
RW_API rw_segment* rw_open(const char* name);
RW_API rw_segment* rw_open_fd(int fd);
RW_API int rw_segment_fd(const rw_segment* seg); /* the anonymous segment's descriptor; -1: named */
RW_API int rw_segment_describe(const rw_segment* seg, rw_segment_info* out); /* 0, or -1 */
RW_API void rw_segment_close(rw_segment* seg);
/* 1 removed, 0 there was none, -1 failed (errc set). */
RW_API int rw_unlink(const char* name);
/* Crash recovery for any kind: endpoints whose claim names a dead process are closed as
 * their detach would (a dead publisher, writer or sender closes the stream; a dead
 * subscriber's or credited reader's entry is freed). Returns how many, or -1. */
RW_API int rw_reap(rw_segment* seg);

/* The channel's counters and state as `ringwire stat` shows them: channel-wide items (role
 * NULL), claims held (role "claims"), then per endpoint (role "subscriber", "lane", ...;
 * index its entry). Fills up to cap, returns how many there are (call with cap 0 to size
 * the array), -1 on failure. Strings are static. */
typedef struct rw_counter {
  const char* role;
  uint32_t index;
  const char* key;
  uint64_t value;
} rw_counter;
RW_API long rw_segment_counters(const rw_segment* seg, rw_counter* out, size_t cap);
/* (Endpoint counters that need metrics -- a subscriber's `received`, say -- read 0 for
 * endpoints attached without them; the C API's endpoints attach with the defaults.) */

/* ---- typed kinds: SPSC, MPSC lanes, broadcast ------------------------------------------
 *
 * Elements are a fixed number of bytes laid out as the C++ peer's T (a C struct, a Rust
 * #[repr(C)] struct, a numpy structured dtype): elem_size == sizeof(T), a multiple of 8
 * from 8 to RW_MAX_ELEM_SIZE, and T aligned to 8 (alignof(T) == 8: `struct alignas(8)` on
 * the C++ side when its members are smaller). type_tag is the C++ peer's
 * ringwire::shm::type_tag<T>::value (specialise it there to a fixed number); create records
 * it, attach checks it when the caller's is not 0. Attach also takes the caller's
 * elem_size, the size of the buffers it will pass, and refuses a segment whose elements
 * are another size (RW_E_SHM_TYPE_MISMATCH). Elements are copied in and out. */
#define RW_MAX_ELEM_SIZE 256u

typedef enum rw_bc_policy { RW_BC_LOSSY = 0, RW_BC_LOSSLESS = 1, RW_BC_EVICT = 2 } rw_bc_policy;

RW_API rw_segment* rw_spsc_create(const char* name, uint64_t capacity, uint32_t elem_size, uint64_t type_tag);
RW_API rw_segment* rw_mpsc_create(const char* name, uint64_t lane_capacity, uint32_t max_producers,
                                  uint32_t elem_size, uint64_t type_tag);
/* policy: an rw_bc_policy (an integer here, so that a wrong value is an error, not UB in C++). */
RW_API rw_segment* rw_bc_create(const char* name, uint64_t capacity, uint32_t max_subscribers, uint32_t policy,
                                uint32_t elem_size, uint64_t type_tag);

typedef struct rw_spsc_sender rw_spsc_sender;
typedef struct rw_spsc_receiver rw_spsc_receiver;
typedef struct rw_mpsc_sender rw_mpsc_sender;
typedef struct rw_mpsc_receiver rw_mpsc_receiver;
typedef struct rw_bc_publisher rw_bc_publisher;
typedef struct rw_bc_subscriber rw_bc_subscriber;

/* SPSC (one sender, one receiver at a time). type_tag 0: not checked. */
RW_API rw_spsc_sender* rw_spsc_sender_attach(rw_segment* seg, uint32_t elem_size, uint64_t type_tag);
RW_API rw_status rw_spsc_try_send(rw_spsc_sender* tx, const void* elem);             /* RW_OK, RW_FULL, RW_CLOSED */
RW_API rw_status rw_spsc_send_for(rw_spsc_sender* tx, const void* elem, uint64_t timeout_ns); /* + RW_TIMED_OUT */
/* How many were sent, in order; 0 when the ring is full, closed or on an error (rw_spsc_try_send
 * tells which). Single sends, batches and reserve are refused while a reservation is open. */
RW_API size_t rw_spsc_try_send_n(rw_spsc_sender* tx, const void* elems, size_t n);
/* Zero-copy: up to n (>= 1) free slots as one contiguous run (*slots, *granted); fill them,
 * then commit the first k (k <= *granted, else RW_ERROR and it stays open; 0 abandons the
 * reservation). RW_FULL: none free. Closing the sender abandons an open reservation. */
RW_API rw_status rw_spsc_reserve(rw_spsc_sender* tx, size_t n, void** slots, size_t* granted);
RW_API rw_status rw_spsc_commit(rw_spsc_sender* tx, size_t k);
RW_API void rw_spsc_sender_close(rw_spsc_sender* tx);

RW_API rw_spsc_receiver* rw_spsc_receiver_attach(rw_segment* seg, uint32_t elem_size, uint64_t type_tag);
RW_API rw_status rw_spsc_try_recv(rw_spsc_receiver* rx, void* out);   /* RW_OK, RW_EMPTY, RW_CLOSED */
RW_API rw_status rw_spsc_recv_for(rw_spsc_receiver* rx, void* out, uint64_t timeout_ns);
/* Up to max elements into out, in order: how many; 0 when none is queued (rw_spsc_try_recv
 * tells empty from closed). */
RW_API size_t rw_spsc_try_recv_n(rw_spsc_receiver* rx, void* out, size_t max);
/* Zero-copy: the queued elements as one contiguous run, valid until rw_spsc_release or the
 * next receive (which ends the span: its elements stay queued, received in order). */
RW_API rw_status rw_spsc_read_span(rw_spsc_receiver* rx, const void** first, size_t* n);
/* Frees the first k of the last span (RW_ERROR, nothing freed, when k exceeds it). */
RW_API rw_status rw_spsc_release(rw_spsc_receiver* rx, size_t k);
RW_API void rw_spsc_receiver_close(rw_spsc_receiver* rx);

/* MPSC: each sender attaches its own lane (FIFO per producer); one receiver. */
RW_API rw_mpsc_sender* rw_mpsc_sender_attach(rw_segment* seg, uint32_t elem_size, uint64_t type_tag);
RW_API rw_status rw_mpsc_try_send(rw_mpsc_sender* tx, const void* elem);
RW_API rw_status rw_mpsc_send_for(rw_mpsc_sender* tx, const void* elem, uint64_t timeout_ns);
RW_API void rw_mpsc_sender_close(rw_mpsc_sender* tx);
RW_API rw_mpsc_receiver* rw_mpsc_receiver_attach(rw_segment* seg, uint32_t elem_size, uint64_t type_tag);
RW_API rw_status rw_mpsc_try_recv(rw_mpsc_receiver* rx, void* out);
RW_API rw_status rw_mpsc_recv_for(rw_mpsc_receiver* rx, void* out, uint64_t timeout_ns);
RW_API void rw_mpsc_receiver_close(rw_mpsc_receiver* rx);
/* No more senders: the receiver sees RW_CLOSED once every lane is drained and every sender
 * has detached. 1 closed now, 0 already closed, -1 failed. */
RW_API int rw_mpsc_close_producers(rw_segment* seg);

/* Broadcast: one publisher, every subscriber sees every message (policy: the segment's). */
RW_API rw_bc_publisher* rw_bc_publisher_attach(rw_segment* seg, uint32_t elem_size, uint64_t type_tag);
RW_API rw_status rw_bc_try_send(rw_bc_publisher* p, const void* elem); /* RW_FULL: lossless, a subscriber behind */
RW_API rw_status rw_bc_send_for(rw_bc_publisher* p, const void* elem, uint64_t timeout_ns);
RW_API void rw_bc_publisher_close(rw_bc_publisher* p);
/* A subscriber starts at the next message. */
RW_API rw_bc_subscriber* rw_bc_subscriber_attach(rw_segment* seg, uint32_t elem_size, uint64_t type_tag);
/* RW_OK (out filled), RW_EMPTY, RW_CLOSED, RW_LAGGED (*missed overwritten; nothing in out),
 * RW_EVICTED. missed may be NULL. */
RW_API rw_status rw_bc_try_recv(rw_bc_subscriber* s, void* out, uint64_t* missed);
RW_API rw_status rw_bc_recv_for(rw_bc_subscriber* s, void* out, uint64_t timeout_ns, uint64_t* missed);
RW_API void rw_bc_subscriber_close(rw_bc_subscriber* s);

/* ---- byte ring: variable-length records with a type id ---------------------------------- */

typedef struct rw_br_writer rw_br_writer;
typedef struct rw_br_reader rw_br_reader;

/* capacity_bytes: a power of two, 64 .. 2^30. many_to_one: up to max_writers writer
 * processes at once (0: one-to-one, one writer). */
RW_API rw_segment* rw_br_create(const char* name, uint64_t capacity_bytes, int many_to_one, uint32_t max_writers);

/* A record read in place: data stays valid until rw_br_release (or the next read_for). */
typedef struct rw_br_record {
  int32_t type;
  const void* data;
  size_t size;
} rw_br_record;

/* The writer. One-to-one: one at a time. Many-to-one: one attach per process (its claim);
 * more threads of that process write through clones of it (made on the thread that uses w,
 * then handed over; at most 32 handles per process: RW_E_TOO_MANY_PRODUCERS). Record types
 * are >= 1. */
RW_API rw_br_writer* rw_br_writer_attach(rw_segment* seg);
RW_API rw_br_writer* rw_br_writer_clone(const rw_br_writer* w); /* many-to-one only */
RW_API rw_status rw_br_try_write(rw_br_writer* w, int32_t type, const void* data, size_t size); /* RW_OK, RW_FULL, RW_CLOSED */
RW_API rw_status rw_br_write_for(rw_br_writer* w, int32_t type, const void* data, size_t size, uint64_t timeout_ns);
/* Zero-copy: exactly n bytes at *data; then commit the first `used` (<= n), or abort. A
 * commit that fails (a bad type, used > n) leaves the reservation open: abort it. Writes and
 * a second reserve are refused while one is open. */
RW_API rw_status rw_br_reserve(rw_br_writer* w, size_t n, void** data);
RW_API rw_status rw_br_commit(rw_br_writer* w, int32_t type, size_t used);
RW_API rw_status rw_br_abort(rw_br_writer* w); /* RW_ERROR when no reservation is open */
RW_API void rw_br_writer_close(rw_br_writer* w);
/* Many-to-one: no more writers; the reader sees RW_CLOSED once drained and every writer has
 * detached. 1 closed now, 0 already closed, -1 failed. */
RW_API int rw_br_close_writers(rw_segment* seg);

RW_API rw_br_reader* rw_br_reader_attach(rw_segment* seg);
/* RW_OK (rec filled, in place), RW_EMPTY, RW_CLOSED. */
RW_API rw_status rw_br_try_read(rw_br_reader* r, rw_br_record* rec);
/* Gives back what was read before it (their views end), then waits up to timeout_ns. */
RW_API rw_status rw_br_read_for(rw_br_reader* r, rw_br_record* rec, uint64_t timeout_ns);
RW_API void rw_br_release(rw_br_reader* r); /* gives back every record read (views end) */
/* A many-to-one writer that died mid-record: reaps, then skips exactly its uncommitted
 * record so the reader goes on (call it when a read times out). seg must be the handle r
 * was attached from. Records skipped, or -1. */
RW_API long rw_br_recover(rw_segment* seg, rw_br_reader* r);
RW_API void rw_br_reader_close(rw_br_reader* r);

/* ---- byte broadcast: variable-length messages to every reader --------------------------- */

typedef struct rw_bb_writer rw_bb_writer;
typedef struct rw_bb_reader rw_bb_reader;

/* byte_broadcast::geometry: depth and region_bytes powers of two, max_message (8-aligned)
 * at most region_bytes / 2; max_credited lossless readers at once. */
typedef struct rw_bb_geometry {
  uint64_t depth;
  uint64_t region_bytes;
  uint64_t max_message;
  uint32_t max_credited;
} rw_bb_geometry;

/* A message's metadata (byte_broadcast::message_info). */
typedef struct rw_bb_info {
  uint64_t seq;
  uint64_t signature;
  uint64_t tspub; /* the writer's steady clock at publish, ns */
  uint32_t size;
  uint16_t ctl;
} rw_bb_info;

/* Segments: create (by name or NULL: see rw_open) and open, as rw_open with a kind check. */
RW_API rw_segment* rw_bb_create(const char* name, const rw_bb_geometry* g);
RW_API rw_segment* rw_bb_open(const char* name);
RW_API int rw_bb_segment_geometry(const rw_segment* seg, rw_bb_geometry* out); /* 0, or -1 (errc set) */
/* Dead endpoints reaped: rw_reap (kept for the first slice's callers). */
RW_API int rw_bb_reap(rw_segment* seg);

/* The writer (one at a time per segment: RW_E_SHM_ALREADY_ATTACHED). */
RW_API rw_bb_writer* rw_bb_writer_attach(rw_segment* seg);
/* RW_OK, RW_FULL (credited readers are a ring behind), RW_CLOSED; RW_ERROR for a message
 * over max_message (RW_E_MESSAGE_TOO_LARGE). */
RW_API rw_status rw_bb_try_write(rw_bb_writer* w, uint64_t signature, const void* data, size_t size);
/* Waits for credits up to timeout_ns (RW_TIMED_OUT). */
RW_API rw_status rw_bb_write_for(rw_bb_writer* w, uint64_t signature, const void* data, size_t size, uint64_t timeout_ns);
/* g sequence numbers that never carried a message: every reader counts them missed. */
RW_API rw_status rw_bb_skip(rw_bb_writer* w, uint64_t g);
RW_API void rw_bb_writer_close(rw_bb_writer* w);

/* A reader: lossy (credited = 0: may lag, told by RW_LAGGED) or credited (lossless: holds
 * the writer back). It starts at the next message. */
RW_API rw_bb_reader* rw_bb_reader_attach(rw_segment* seg, int credited);
/* One message into buf: RW_OK (info filled), RW_EMPTY, RW_CLOSED, RW_LAGGED (*missed),
 * RW_TOO_SMALL (info->size), RW_CORRUPT. info and missed may be NULL. */
RW_API rw_status rw_bb_try_read(rw_bb_reader* r, void* buf, size_t cap, rw_bb_info* info, uint64_t* missed);
RW_API rw_status rw_bb_read_for(rw_bb_reader* r, void* buf, size_t cap, uint64_t timeout_ns, rw_bb_info* info,
                         uint64_t* missed);
RW_API void rw_bb_reader_close(rw_bb_reader* r);

#ifdef __cplusplus
}
#endif

#endif
