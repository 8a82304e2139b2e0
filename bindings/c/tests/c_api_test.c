/* The C API (bindings/c) from C: a byte-broadcast segment created, written and read,
 * lossy and credited readers, a lag reported with its exact count, a skip, every error
 * path that must not crash (NULL handles, a second writer, a message too large, a name
 * that exists), and the segment re-opened by name. Exit status 0 when all passed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(void) {
  char name[64];
  snprintf(name, sizeof name, "/rw-c-api-%d", (int)getpid());
  const rw_bb_geometry g = {.depth = 16, .region_bytes = 1 << 12, .max_message = 256, .max_credited = 1};
  rw_segment* seg = rw_bb_create(name, &g);
  CHECK(seg != NULL);
  if (seg == NULL) return 1;
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
  if (failures == 0) printf("c_api_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
