// ringwire/broadcast/skip.hpp -- the reader's half of publisher::skip(g): which sequences a
// receive may pass over once the publisher has skipped some.
//
// The protocol (layout.hpp, Skips): the publisher advances head by g without writing a
// slot, after setting the ring's sticky `skipped` flag. A skipped sequence k never gets the
// stamp 2k. A reader that loaded head = h with acquire sees every commit up to h, so in
// [n, h] a slot that does not hold 2k now means k was skipped -- or, lossy, overwritten;
// gated, the slot of a skipped k the publisher reused (producer_state.hpp). Either way k
// can never be read: the reader passes over it and counts it missed. What it resumes at is
// the oldest message still committed in its slot (receive), or the newest (latest()),
// and a receive returns the run as one status::lagged with the exact number of sequences
// passed over, on every policy: a skipped message never existed, so even a lossless
// subscriber misses it; a gated subscriber never takes a reused slot for corruption.
#pragma once

#include <cstdint>

#include "ringwire/broadcast/layout.hpp"

namespace ringwire::broadcast::detail {

// The oldest (newest) message in [n, h] whose slot still holds it committed, or 0 for
// none. Precondition: 1 <= n <= h, and h was loaded with acquire (see above). Reads at most
// min(h - n + 1, capacity) stamps: beyond capacity each slot holds at most one candidate,
// the one its stamp names (checked to belong to that slot: a hostile stamp may name any).
template <class Sync>
[[nodiscard]] std::uint64_t present_message(const ring_geometry<Sync>& geo, std::uint64_t n, std::uint64_t h,
                                            bool newest) noexcept {
  using ring = layout<Sync>;
  const std::uint64_t cap = geo.capacity;
  // relaxed (all): ordered after the caller's acquire of head; nothing is copied.
  const auto stamp = [&geo](std::uint64_t i) {
    return slot_ref<Sync>{geo.slot(i)}.stamp().load(std::memory_order_relaxed);
  };
  if (h - n < cap) {
    for (std::uint64_t j = 0; j <= h - n; ++j) {
      const std::uint64_t k = newest ? h - j : n + j;
      if (stamp(k % cap) == ring::committed(k)) return k;
    }
    return 0;
  }
  std::uint64_t found = 0;
  for (std::uint64_t i = 0; i < cap; ++i) {
    const std::uint64_t st = stamp(i);
    const std::uint64_t m = st / 2;
    if (st % 2 != 0 || m < n || m > h || m % cap != i) continue;
    if (found == 0 || (newest ? m > found : m < found)) found = m;
  }
  return found;
}

// Where a reader expecting n resumes once head = h >= n (loaded with acquire) shows that n
// was skipped or overwritten: the oldest message in [n, h] still in its slot, else h + 1.
// Every sequence passed over was skipped, or overwritten (lossy; gated: a skipped one whose
// slot the publisher reused). n itself when its message is there now (re-read it).
template <class Sync>
[[nodiscard]] std::uint64_t resume_point(const ring_geometry<Sync>& geo, std::uint64_t n, std::uint64_t h) noexcept {
  const std::uint64_t p = present_message(geo, n, h, false);
  return p != 0 ? p : h + 1;
}

}  // namespace ringwire::broadcast::detail
