/* A downstream C program using the installed C API (ringwire::c): a segment name that
 * does not exist is a clean error, not a crash. */
#include <stdio.h>

#include "ringwire/ringwire_c.h"

int main(void) {
  rw_segment* seg = rw_bb_open("/ringwire-consumer-c-no-such-segment");
  if (seg != NULL || rw_last_errc() != RW_E_SHM_NOT_FOUND) {
    printf("unexpected: %s\n", rw_last_error());
    return 1;
  }
  return 0;
}
