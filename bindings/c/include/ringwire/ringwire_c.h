/* ringwire/ringwire_c.h -- the C API (issue 22, first slice: byte-broadcast segments).
 *
 * A C program (or another language through its FFI) joins a ringwire shared-memory
 * byte-broadcast channel beside C++ processes: the very segment layout and protocol of
 * include/ringwire/shm/byte_broadcast.hpp, driven through opaque handles. Nothing here
 * throws: every call that can fail returns an rw_status (or NULL) and leaves the reason in
 * a thread-local error: rw_last_errc() (one value per ringwire::errc, same order, from 1)
 * and rw_last_error() (the library's message).
 *
 * Thread safety: a segment handle may be used by any thread; a writer or reader handle by
 * one thread at a time (as the C++ endpoints); closing a handle while another thread uses
 * it is undefined. Handles must be closed before the segment handle they came from.
 *
 *   rw_bb_geometry g = {.depth = 1024, .region_bytes = 1 << 20, .max_message = 4096, .max_credited = 1};
 *   rw_segment* seg = rw_bb_create("/md", &g);                // or rw_bb_open("/md")
 *   rw_bb_writer* w = rw_bb_writer_attach(seg);
 *   rw_bb_write(w, 7, "hello", 5);
 *   rw_bb_reader* r = rw_bb_reader_attach(seg, 0);            // 1: credited (lossless)
 *   char buf[4096]; rw_bb_info info; uint64_t missed;
 *   rw_status s = rw_bb_read_for(r, buf, sizeof buf, 1000000000, &info, &missed);
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
RW_API const char* rw_status_name(rw_status s);

typedef struct rw_segment rw_segment;
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

/* Segments. create: exclusive (RW_E_SHM_EXISTS if the name exists), owner-only, the name
 * stays until rw_unlink. open: a segment someone created, with the geometry its header
 * records (the open is validated as an opener expecting exactly that). NULL on failure. */
RW_API rw_segment* rw_bb_create(const char* name, const rw_bb_geometry* g);
RW_API rw_segment* rw_bb_open(const char* name);
RW_API int rw_bb_segment_geometry(const rw_segment* seg, rw_bb_geometry* out); /* 0, or -1 (errc set) */
RW_API void rw_segment_close(rw_segment* seg);
/* 1 removed, 0 there was none, -1 failed (errc set). */
RW_API int rw_unlink(const char* name);
/* Dead endpoints of the segment reaped (their claims released); -1 failed. */
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
