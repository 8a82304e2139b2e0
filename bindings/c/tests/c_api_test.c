/* The C API (bindings/c) from C, every kind: a byte-broadcast segment (lossy and credited
 * readers, a lag reported with its exact count, a skip), SPSC (copies, batches, zero-copy
 * reserve/commit and read_span/release across the ring's wrap), MPSC lanes, a typed
 * broadcast (lossy lag counts, lossless backpressure), a byte ring (one-to-one and
 * many-to-one, zero-copy records), counters, reap, re-opening by name with the recorded
 * geometry, and every error path that must not crash (NULL handles, a second writer, a
 * message too large, wrong kind, wrong element size or tag, a name that exists). Exit
 * status 0 when all passed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ringwire/ringwire_c.h"

static int failures = 0;
#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: CHECK(%s) failed (last error: %s)\n", __FILE__, __LINE__, #cond, rw_last_error()); \
      ++failures;                                                          \
    }                                                                      \
  } while (0)

static void test_byte_broadcast(void) {
  char name[64];
  snprintf(name, sizeof name, "/rw-c-api-%d", (int)getpid());
  const rw_bb_geometry g = {.depth = 16, .region_bytes = 1 << 12, .max_message = 256, .max_credited = 1};
  rw_segment* seg = rw_bb_create(name, &g);
  CHECK(seg != NULL);
  if (seg == NULL) return;
  CHECK(rw_bb_create(name, &g) == NULL && rw_last_errc() == RW_E_SHM_EXISTS);

  rw_bb_writer* w = rw_bb_writer_attach(seg);
  CHECK(w != NULL);
  CHECK(rw_bb_writer_attach(seg) == NULL && rw_last_errc() == RW_E_SHM_ALREADY_ATTACHED);
  rw_bb_reader* lossy = rw_bb_reader_attach(seg, 0);
  rw_bb_reader* credited = rw_bb_reader_attach(seg, 1);
  CHECK(lossy != NULL && credited != NULL);

  char buf[256];
  rw_bb_info info;
  uint64_t missed = 99;
  CHECK(rw_bb_try_read(lossy, buf, sizeof buf, &info, &missed) == RW_EMPTY);
  CHECK(rw_bb_try_write(w, 7, "hello", 5) == RW_OK);
  CHECK(rw_bb_read_for(lossy, buf, sizeof buf, 1000000000u, &info, &missed) == RW_OK);
  CHECK(info.size == 5 && info.signature == 7 && info.seq == 1 && memcmp(buf, "hello", 5) == 0 && missed == 0);
  CHECK(rw_bb_try_read(credited, buf, 2, &info, &missed) == RW_TOO_SMALL && info.size == 5);
  CHECK(rw_bb_try_read(credited, buf, sizeof buf, &info, &missed) == RW_OK && info.seq == 1);

  /* The credited reader holds the writer back: depth 16, it has read 1. */
  int written = 1;
  while (rw_bb_try_write(w, 0, "x", 1) == RW_OK && written < 100) ++written;
  CHECK(written == 17);
  /* The lossy reader was lapped only if the ring was overwritten: here it was not. */
  uint64_t got = 0, lost = 0;
  for (;;) {
    rw_status s = rw_bb_try_read(lossy, buf, sizeof buf, &info, &missed);
    if (s == RW_OK) ++got;
    else if (s == RW_LAGGED) lost += missed;
    else break;
  }
  CHECK(got + lost == 16);
  while (rw_bb_try_read(credited, buf, sizeof buf, &info, &missed) == RW_OK) {
  }
  /* A skip: both readers are told exactly how many. */
  CHECK(rw_bb_skip(w, 5) == RW_OK);
  CHECK(rw_bb_try_write(w, 1, "after", 5) == RW_OK);
  CHECK(rw_bb_try_read(credited, buf, sizeof buf, &info, &missed) == RW_LAGGED && missed == 5);
  CHECK(rw_bb_try_read(credited, buf, sizeof buf, &info, &missed) == RW_OK && memcmp(buf, "after", 5) == 0);
  CHECK(rw_bb_try_read(lossy, buf, sizeof buf, &info, &missed) == RW_LAGGED && missed == 5);

  /* Errors, never crashes. */
  char big[300] = {0};
  CHECK(rw_bb_try_write(w, 0, big, sizeof big) == RW_ERROR && rw_last_errc() == RW_E_MESSAGE_TOO_LARGE);
  CHECK(rw_bb_try_write(NULL, 0, "x", 1) == RW_ERROR && rw_last_errc() == RW_E_INVALID_ARGUMENT);
  CHECK(rw_bb_try_read(NULL, buf, sizeof buf, NULL, NULL) == RW_ERROR);
  CHECK(rw_bb_open("/rw-c-api-no-such-segment") == NULL && rw_last_errc() == RW_E_SHM_NOT_FOUND);
  CHECK(strcmp(rw_status_name(RW_LAGGED), "lagged") == 0);

  /* By name, from a second handle: the recorded geometry. */
  rw_segment* again = rw_bb_open(name);
  CHECK(again != NULL);
  rw_bb_geometry seen;
  CHECK(again != NULL && rw_bb_segment_geometry(again, &seen) == 0 && seen.depth == 16 && seen.max_message == 256);
  CHECK(rw_bb_reap(again) == 0);

  rw_bb_reader_close(lossy);
  rw_bb_reader_close(credited);
  rw_bb_writer_close(w);
  rw_segment_close(again);
  rw_segment_close(seg);
  CHECK(rw_unlink(name) == 1);
}

/* The element the typed tests carry: 24 bytes, aligned to 8. */
typedef struct tick {
  uint64_t seq;
  double price;
  uint64_t check;
} tick;
#define TICK_TAG 0x7469636b01ull
static tick make_tick(uint64_t i) {
  tick t = {i, (double)i * 0.5, i * 0x9E3779B97F4A7C15ull};
  return t;
}
static int tick_ok(const tick* t, uint64_t i) { return t->seq == i && t->price == (double)i * 0.5 && t->check == i * 0x9E3779B97F4A7C15ull; }

static void seg_name(char* out, size_t n, const char* what) { snprintf(out, n, "/rw-c-%s-%d", what, (int)getpid()); }

static void test_spsc(void) {
  char name[64];
  seg_name(name, sizeof name, "spsc");
  rw_unlink(name);
  CHECK(rw_spsc_create(name, 8, 12, TICK_TAG) == NULL && rw_last_errc() == RW_E_INVALID_OPTIONS);
  CHECK(rw_spsc_create(name, 8, 264, TICK_TAG) == NULL && rw_last_errc() == RW_E_INVALID_OPTIONS);
  rw_segment* seg = rw_spsc_create(name, 8, sizeof(tick), TICK_TAG);
  CHECK(seg != NULL);
  if (seg == NULL) return;
  rw_segment_info info;
  CHECK(rw_segment_describe(seg, &info) == 0 && info.kind == RW_KIND_SPSC && info.capacity == 8 &&
        info.elem_size == sizeof(tick) && info.elem_align == 8 && info.type_tag == TICK_TAG);
  CHECK(rw_spsc_sender_attach(seg, sizeof(tick), 0x1234) == NULL && rw_last_errc() == RW_E_SHM_TYPE_MISMATCH);
  /* The caller's buffers are 16 bytes, the segment's elements 24: refused, never overrun. */
  CHECK(rw_spsc_receiver_attach(seg, 16, 0) == NULL && rw_last_errc() == RW_E_SHM_TYPE_MISMATCH);
  CHECK(rw_mpsc_sender_attach(seg, sizeof(tick), TICK_TAG) == NULL && rw_last_errc() == RW_E_SHM_KIND_MISMATCH);
  rw_spsc_sender* tx = rw_spsc_sender_attach(seg, sizeof(tick), TICK_TAG);
  rw_spsc_receiver* rx = rw_spsc_receiver_attach(seg, sizeof(tick), 0); /* 0: tag not checked */
  CHECK(tx != NULL && rx != NULL);
  CHECK(rw_spsc_sender_attach(seg, sizeof(tick), TICK_TAG) == NULL && rw_last_errc() == RW_E_SHM_ALREADY_ATTACHED);
  if (tx == NULL || rx == NULL) return;

  tick t, out;
  CHECK(rw_spsc_try_recv(rx, &out) == RW_EMPTY);
  uint64_t next_in = 0, next_out = 0;
  for (int i = 0; i < 8; ++i) {
    t = make_tick(next_in++);
    CHECK(rw_spsc_try_send(tx, &t) == RW_OK);
  }
  t = make_tick(next_in);
  CHECK(rw_spsc_try_send(tx, &t) == RW_FULL);
  CHECK(rw_spsc_send_for(tx, &t, 1000000u) == RW_TIMED_OUT);
  CHECK(rw_spsc_recv_for(rx, &out, 1000000000u) == RW_OK && tick_ok(&out, next_out++));
  tick batch[8];
  CHECK(rw_spsc_try_recv_n(rx, batch, 3) == 3);
  for (int i = 0; i < 3; ++i) CHECK(tick_ok(&batch[i], next_out++));
  /* A batch of 6 into 4 free slots: 4 go. */
  for (int i = 0; i < 6; ++i) batch[i] = make_tick(next_in + (uint64_t)i);
  CHECK(rw_spsc_try_send_n(tx, batch, 6) == 4);
  next_in += 4;
  /* Zero-copy across the wrap, many rounds: reserve, fill in place, commit; read_span,
   * check in place, release. */
  for (int round = 0; round < 50; ++round) {
    const void* first = NULL;
    size_t n = 0;
    CHECK(rw_spsc_read_span(rx, &first, &n) == RW_OK && n >= 1);
    const tick* in = (const tick*)first;
    for (size_t i = 0; i < n; ++i) CHECK(tick_ok(&in[i], next_out + i));
    CHECK(rw_spsc_release(rx, n) == RW_OK);
    next_out += n;
    void* slots = NULL;
    size_t granted = 0;
    CHECK(rw_spsc_reserve(tx, 5, &slots, &granted) == RW_OK && granted >= 1 && granted <= 5);
    CHECK(rw_spsc_reserve(tx, 1, &slots, &granted) == RW_ERROR && rw_last_errc() == RW_E_INVALID_ARGUMENT);
    /* more than granted: refused, the reservation stays open */
    CHECK(rw_spsc_commit(tx, granted + 1) == RW_ERROR && rw_last_errc() == RW_E_INVALID_ARGUMENT);
    t = make_tick(999);
    CHECK(rw_spsc_try_send(tx, &t) == RW_ERROR && rw_last_errc() == RW_E_INVALID_ARGUMENT);
    CHECK(rw_spsc_try_send_n(tx, &t, 1) == 0 && rw_last_errc() == RW_E_INVALID_ARGUMENT);
    tick* at = (tick*)slots;
    for (size_t i = 0; i < granted; ++i) at[i] = make_tick(next_in + i);
    CHECK(rw_spsc_commit(tx, granted) == RW_OK);
    next_in += granted;
  }
  CHECK(rw_spsc_commit(tx, 1) == RW_ERROR && rw_last_errc() == RW_E_INVALID_ARGUMENT);
  {
    void* slots = NULL;
    size_t granted = 9;
    CHECK(rw_spsc_reserve(tx, 0, &slots, &granted) == RW_ERROR && rw_last_errc() == RW_E_INVALID_ARGUMENT);
  }
  /* A receive ends a span: releasing it afterwards is refused, and nothing is lost. */
  {
    const void* sp = NULL;
    size_t k = 0;
    for (int i = 0; i < 2; ++i) {
      t = make_tick(next_in++);
      CHECK(rw_spsc_try_send(tx, &t) == RW_OK);
    }
    CHECK(rw_spsc_read_span(rx, &sp, &k) == RW_OK && k >= 2);
    CHECK(rw_spsc_try_recv(rx, &out) == RW_OK && tick_ok(&out, next_out++));
    CHECK(rw_spsc_release(rx, k) == RW_ERROR && rw_last_errc() == RW_E_INVALID_ARGUMENT);
  }
  while (rw_spsc_try_recv(rx, &out) == RW_OK) CHECK(tick_ok(&out, next_out++));
  CHECK(next_out == next_in);
  const void* first = NULL;
  size_t n = 7;
  CHECK(rw_spsc_read_span(rx, &first, &n) == RW_EMPTY && n == 0);
  /* more than the span gave: refused, nothing freed */
  CHECK(rw_spsc_release(rx, 1) == RW_ERROR && rw_last_errc() == RW_E_INVALID_ARGUMENT);

  /* Counters: the channel's own and the claims held. */
  rw_counter counters[64];
  long count = rw_segment_counters(seg, counters, 64);
  CHECK(count > 0 && count <= 64);
  int saw_claims = 0;
  for (long i = 0; i < count && i < 64; ++i)
    if (counters[i].role != NULL && strcmp(counters[i].role, "claims") == 0) saw_claims = 1;
  CHECK(saw_claims);
  CHECK(rw_segment_counters(seg, NULL, 0) == count);

  /* The sender leaves: the receiver sees closed once drained. */
  t = make_tick(next_in);
  CHECK(rw_spsc_try_send(tx, &t) == RW_OK);
  rw_spsc_sender_close(tx);
  CHECK(rw_spsc_try_recv(rx, &out) == RW_OK && tick_ok(&out, next_in));
  CHECK(rw_spsc_try_recv(rx, &out) == RW_CLOSED);
  rw_spsc_receiver_close(rx);

  /* Re-opened by name: any kind, the recorded geometry. */
  rw_segment* again = rw_open(name);
  CHECK(again != NULL && rw_segment_describe(again, &info) == 0 && info.kind == RW_KIND_SPSC && info.capacity == 8);
  CHECK(rw_bb_open(name) == NULL && rw_last_errc() == RW_E_SHM_KIND_MISMATCH);
  CHECK(rw_reap(again) == 0);
  rw_segment_close(again);
  rw_segment_close(seg);
  CHECK(rw_unlink(name) == 1);
}

static void test_mpsc(void) {
  char name[64];
  seg_name(name, sizeof name, "mpsc");
  rw_unlink(name);
  rw_segment* seg = rw_mpsc_create(name, 4, 3, sizeof(tick), TICK_TAG);
  CHECK(seg != NULL);
  if (seg == NULL) return;
  rw_mpsc_receiver* rx = rw_mpsc_receiver_attach(seg, sizeof(tick), TICK_TAG);
  rw_mpsc_sender* a = rw_mpsc_sender_attach(seg, sizeof(tick), TICK_TAG);
  rw_mpsc_sender* b = rw_mpsc_sender_attach(seg, sizeof(tick), TICK_TAG);
  CHECK(rx != NULL && a != NULL && b != NULL);
  if (rx == NULL || a == NULL || b == NULL) return;
  /* Per-lane FIFO: a sends 0..3, b sends 100..103; each lane's order is kept. */
  for (uint64_t i = 0; i < 4; ++i) {
    tick ta = make_tick(i), tb = make_tick(100 + i);
    CHECK(rw_mpsc_try_send(a, &ta) == RW_OK && rw_mpsc_try_send(b, &tb) == RW_OK);
  }
  tick t = make_tick(4);
  CHECK(rw_mpsc_try_send(a, &t) == RW_FULL); /* its own lane of 4 is full */
  uint64_t next_a = 0, next_b = 100;
  tick out;
  for (int i = 0; i < 8; ++i) {
    CHECK(rw_mpsc_recv_for(rx, &out, 1000000000u) == RW_OK);
    if (out.seq < 100) CHECK(tick_ok(&out, next_a++));
    else CHECK(tick_ok(&out, next_b++));
  }
  CHECK(next_a == 4 && next_b == 104);
  CHECK(rw_mpsc_try_recv(rx, &out) == RW_EMPTY);
  rw_mpsc_sender_close(a);
  rw_mpsc_sender_close(b);
  CHECK(rw_mpsc_close_producers(seg) == 1 && rw_mpsc_close_producers(seg) == 0); /* closed now, then already */
  CHECK(rw_mpsc_recv_for(rx, &out, 1000000000u) == RW_CLOSED);
  rw_mpsc_receiver_close(rx);
  rw_segment_close(seg);
  CHECK(rw_unlink(name) == 1);
}

static void test_broadcast(void) {
  char name[64];
  seg_name(name, sizeof name, "bc");
  rw_unlink(name);
  CHECK(rw_bc_create(name, 8, 4, 7, sizeof(tick), TICK_TAG) == NULL && rw_last_errc() == RW_E_INVALID_OPTIONS);
  rw_segment* seg = rw_bc_create(name, 8, 4, RW_BC_LOSSY, sizeof(tick), TICK_TAG);
  CHECK(seg != NULL);
  if (seg == NULL) return;
  rw_bc_publisher* p = rw_bc_publisher_attach(seg, sizeof(tick), TICK_TAG);
  rw_bc_subscriber* s1 = rw_bc_subscriber_attach(seg, sizeof(tick), TICK_TAG);
  rw_bc_subscriber* s2 = rw_bc_subscriber_attach(seg, sizeof(tick), TICK_TAG);
  CHECK(p != NULL && s1 != NULL && s2 != NULL);
  if (p == NULL || s1 == NULL || s2 == NULL) return;
  tick t, out;
  uint64_t missed = 99;
  CHECK(rw_bc_try_recv(s1, &out, &missed) == RW_EMPTY);
  for (uint64_t i = 0; i < 5; ++i) {
    t = make_tick(i);
    CHECK(rw_bc_try_send(p, &t) == RW_OK);
  }
  /* s1 keeps up; every subscriber sees every message. */
  for (uint64_t i = 0; i < 5; ++i) CHECK(rw_bc_recv_for(s1, &out, 1000000000u, &missed) == RW_OK && tick_ok(&out, i));
  /* 20 more: s2 (5 unread + 20) is lapped by a ring of 8 and told exactly how many. */
  for (uint64_t i = 5; i < 25; ++i) {
    t = make_tick(i);
    CHECK(rw_bc_try_send(p, &t) == RW_OK);
  }
  uint64_t got = 0, lost = 0, last = 0;
  for (;;) {
    rw_status st = rw_bc_try_recv(s2, &out, &missed);
    if (st == RW_OK) {
      CHECK(out.seq >= last && tick_ok(&out, out.seq));
      last = out.seq;
      ++got;
    } else if (st == RW_LAGGED) {
      lost += missed;
    } else {
      CHECK(st == RW_EMPTY);
      break;
    }
  }
  CHECK(lost > 0 && got + lost == 25 && last == 24);
  rw_bc_publisher_close(p);
  /* s1 was lapped too (it read 5 of 25); after the lag and what is left: closed. */
  rw_status end;
  while ((end = rw_bc_try_recv(s1, &out, &missed)) == RW_OK || end == RW_LAGGED) {
  }
  CHECK(end == RW_CLOSED);
  rw_bc_subscriber_close(s1);
  rw_bc_subscriber_close(s2);
  rw_segment_close(seg);
  CHECK(rw_unlink(name) == 1);

  /* Lossless: the slowest subscriber holds the publisher back at the ring's capacity. */
  seg = rw_bc_create(name, 8, 2, RW_BC_LOSSLESS, sizeof(tick), TICK_TAG);
  CHECK(seg != NULL);
  if (seg == NULL) return;
  p = rw_bc_publisher_attach(seg, sizeof(tick), TICK_TAG);
  s1 = rw_bc_subscriber_attach(seg, sizeof(tick), 0);
  CHECK(p != NULL && s1 != NULL);
  if (p == NULL || s1 == NULL) return;
  uint64_t sent = 0;
  for (; sent < 100; ++sent) {
    t = make_tick(sent);
    if (rw_bc_try_send(p, &t) != RW_OK) break;
  }
  CHECK(sent == 8);
  CHECK(rw_bc_send_for(p, &t, 1000000u) == RW_TIMED_OUT);
  for (uint64_t i = 0; i < 8; ++i) CHECK(rw_bc_try_recv(s1, &out, &missed) == RW_OK && tick_ok(&out, i));
  CHECK(rw_bc_try_send(p, &t) == RW_OK);
  rw_bc_subscriber_close(s1);
  rw_bc_publisher_close(p);
  rw_segment_close(seg);
  CHECK(rw_unlink(name) == 1);
}

static void test_byte_ring(void) {
  char name[64];
  seg_name(name, sizeof name, "br");
  rw_unlink(name);
  CHECK(rw_br_create(name, 1000, 0, 0) == NULL && rw_last_errc() != RW_E_NONE); /* not a power of two */
  rw_segment* seg = rw_br_create(name, 1 << 12, 0, 0);
  CHECK(seg != NULL);
  if (seg == NULL) return;
  rw_br_writer* w = rw_br_writer_attach(seg);
  rw_br_reader* r = rw_br_reader_attach(seg);
  CHECK(w != NULL && r != NULL);
  if (w == NULL || r == NULL) return;
  CHECK(rw_br_writer_clone(w) == NULL && rw_last_errc() == RW_E_INVALID_ARGUMENT);
  rw_br_record rec;
  CHECK(rw_br_try_read(r, &rec) == RW_EMPTY);
  CHECK(rw_br_try_write(w, 0, "x", 1) == RW_ERROR && rw_last_errc() == RW_E_INVALID_MESSAGE_TYPE);
  /* Records of 0 .. 299 bytes, many laps of a 4 KiB ring: copies and zero-copy alternate. */
  unsigned char payload[300];
  uint64_t next_in = 0, next_out = 0;
  for (int round = 0; round < 200; ++round) {
    for (;;) {
      const size_t len = (size_t)(next_in % 300);
      memset(payload, (int)(next_in & 0xff), len);
      if (next_in % 2 == 0) {
        if (rw_br_try_write(w, (int32_t)(1 + next_in % 5), payload, len) != RW_OK) break;
      } else {
        void* at = NULL;
        if (rw_br_reserve(w, len + 8, &at) != RW_OK) break;
        memcpy(at, payload, len);
        CHECK(rw_br_commit(w, (int32_t)(1 + next_in % 5), len) == RW_OK); /* commits the first len of len + 8 */
      }
      ++next_in;
    }
    while (rw_br_try_read(r, &rec) == RW_OK) {
      const size_t len = (size_t)(next_out % 300);
      int same = rec.type == (int32_t)(1 + next_out % 5) && rec.size == len;
      for (size_t i = 0; same && i < len; ++i) same = ((const unsigned char*)rec.data)[i] == (next_out & 0xff);
      CHECK(same);
      ++next_out;
    }
    rw_br_release(r);
  }
  CHECK(next_in == next_out && next_in > 200);
  void* at = NULL;
  CHECK(rw_br_reserve(w, 16, &at) == RW_OK);
  CHECK(rw_br_try_write(w, 1, "x", 1) == RW_ERROR && rw_last_errc() == RW_E_INVALID_ARGUMENT);
  CHECK(rw_br_reserve(w, 16, &at) == RW_ERROR && rw_last_errc() == RW_E_INVALID_ARGUMENT);
  CHECK(rw_br_abort(w) == RW_OK); /* nothing visible */
  CHECK(rw_br_abort(w) == RW_ERROR && rw_last_errc() == RW_E_INVALID_ARGUMENT);
  CHECK(rw_br_try_read(r, &rec) == RW_EMPTY);
  CHECK(rw_br_commit(w, 1, 0) == RW_ERROR && rw_last_errc() == RW_E_INVALID_ARGUMENT);
  CHECK(rw_br_try_write(w, 1, payload, 1 << 13) == RW_ERROR && rw_last_errc() == RW_E_MESSAGE_TOO_LARGE);
  rw_br_writer_close(w);
  CHECK(rw_br_read_for(r, &rec, 1000000000u) == RW_CLOSED);
  rw_br_reader_close(r);
  rw_segment_close(seg);
  CHECK(rw_unlink(name) == 1);

  /* Many-to-one: a writer and its clone interleave, each record whole. */
  seg = rw_br_create(name, 1 << 12, 1, 2);
  CHECK(seg != NULL);
  if (seg == NULL) return;
  w = rw_br_writer_attach(seg);
  rw_br_writer* w2 = w != NULL ? rw_br_writer_clone(w) : NULL;
  r = rw_br_reader_attach(seg);
  CHECK(w != NULL && w2 != NULL && r != NULL);
  if (w == NULL || w2 == NULL || r == NULL) return;
  for (uint64_t i = 0; i < 20; ++i) CHECK(rw_br_try_write(i % 2 ? w2 : w, 3, &i, sizeof i) == RW_OK);
  for (uint64_t i = 0; i < 20; ++i) {
    uint64_t v = 99;
    CHECK(rw_br_try_read(r, &rec) == RW_OK && rec.size == sizeof v);
    if (rec.size == sizeof v) memcpy(&v, rec.data, sizeof v);
    CHECK(v == i);
  }
  rw_br_release(r);
  CHECK(rw_br_recover(seg, r) == 0);
  {
    rw_segment* other = rw_open(name);
    CHECK(other != NULL && rw_br_recover(other, r) == -1 && rw_last_errc() == RW_E_INVALID_ARGUMENT);
    rw_segment_close(other);
  }
  rw_br_writer_close(w2);
  rw_br_writer_close(w);
  CHECK(rw_br_close_writers(seg) == 1 && rw_br_close_writers(seg) == 0); /* closed now, then already */
  CHECK(rw_br_read_for(r, &rec, 1000000000u) == RW_CLOSED);
  rw_br_reader_close(r);
  rw_segment_close(seg);
  CHECK(rw_unlink(name) == 1);
}

/* An anonymous segment shared by its descriptor: a forked child joins it with rw_open_fd
 * and sends; the parent receives every element. */
static void test_anonymous(void) {
  rw_segment* seg = rw_spsc_create(NULL, 16, sizeof(tick), TICK_TAG);
  CHECK(seg != NULL);
  if (seg == NULL) return;
  const int fd = rw_segment_fd(seg);
  CHECK(fd >= 0);
  rw_spsc_receiver* rx = rw_spsc_receiver_attach(seg, sizeof(tick), TICK_TAG);
  CHECK(rx != NULL);
  if (rx == NULL) return;
  const pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    rw_segment* mine = rw_open_fd(fd);
    rw_spsc_sender* tx = mine != NULL ? rw_spsc_sender_attach(mine, sizeof(tick), TICK_TAG) : NULL;
    if (tx == NULL) _exit(2);
    for (uint64_t i = 0; i < 1000; ++i) {
      const tick t = make_tick(i);
      if (rw_spsc_send_for(tx, &t, 10000000000u) != RW_OK) _exit(3);
    }
    rw_spsc_sender_close(tx);
    rw_segment_close(mine);
    _exit(0);
  }
  tick out;
  uint64_t next = 0;
  rw_status s;
  while ((s = rw_spsc_recv_for(rx, &out, 10000000000u)) == RW_OK) CHECK(tick_ok(&out, next++));
  CHECK(s == RW_CLOSED && next == 1000);
  int st = 0;
  CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK(rw_open_fd(-1) == NULL && rw_last_errc() == RW_E_SHM_SYSTEM_ERROR);
  rw_spsc_receiver_close(rx);
  rw_segment_close(seg);
}

int main(void) {
  test_anonymous();
  test_byte_broadcast();
  test_spsc();
  test_mpsc();
  test_broadcast();
  test_byte_ring();
  CHECK(rw_open(NULL) == NULL && rw_last_errc() == RW_E_INVALID_ARGUMENT);
  CHECK(strcmp(rw_status_name(1000), "unknown") == 0 && strcmp(rw_status_name(RW_ERROR), "error") == 0);
  CHECK(rw_abi_version() == RW_ABI_VERSION && strlen(rw_version()) >= 5);
  CHECK(rw_open("/rw-c-api-no-such-segment") == NULL && rw_last_errc() == RW_E_SHM_NOT_FOUND);
  if (failures == 0) printf("c_api_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
