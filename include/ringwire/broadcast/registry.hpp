// ringwire/broadcast/registry.hpp -- taking a subscriber registry entry (layout.hpp,
// "Registry"): the first part of a join, before the subscriber formats the entry, marks it
// live and reads head (subscriber.hpp, join()).
//
// An entry is taken by a CAS of its state word from free to joining (bumping the
// generation, so an eviction aimed at a previous occupant fails), or -- at an index the
// caller chose and guarantees no live subscriber holds (a shared-memory claim) -- by
// replacing whatever a dead holder left there; then `top` is raised to cover it, with
// release, so the publisher's rescan up to top sees a formatted entry.
#pragma once

#include <cstdint>
#include <string>

#include "ringwire/broadcast/layout.hpp"
#include "ringwire/error.hpp"

namespace ringwire::broadcast {

// The entry taken and its state word (generation | joining).
struct ring_claim {
  std::uint32_t index;
  std::uint32_t state;
};

namespace detail {

// entry == any: the first free entry; else exactly that one. Throws ringwire::error:
// invalid_options (no such entry), too_many_subscribers (none free).
template <class Sync>
ring_claim claim_entry(layout<Sync>* l, const ring_geometry<Sync>& geo, std::uint32_t entry, std::uint32_t any) {
  using ring = layout<Sync>;
  ring_claim c{0, 0};
  const std::uint32_t max = geo.max_subscribers;
  std::uint32_t i = 0;
  if (entry != any) {
    if (entry >= max) {
      throw error(errc::invalid_options,
                  "registry entry " + std::to_string(entry) + " of " + std::to_string(max) + " does not exist");
    }
    auto& e = geo.subscriber(entry);
    // acquire: the previous occupant's (or its reaper's) release of the entry happens-before our use.
    std::uint32_t st = e.state.load(std::memory_order_acquire);
    // acquire: as above. Only a publisher's eviction CAS (live -> evicted) can race
    // with us here: retry from what it left.
    while (!e.state.compare_exchange_weak(st, ring::with_kind(st + 4, ring::joining), std::memory_order_acquire,
                                          std::memory_order_acquire)) {
    }
    c.state = ring::with_kind(st + 4, ring::joining);
    i = entry;
  }
  for (; entry == any && i < max; ++i) {
    auto& e = geo.subscriber(i);
    // relaxed: a guess; the CAS below decides.
    std::uint32_t st = e.state.load(std::memory_order_relaxed);
    // acquire: the previous occupant's release of the entry happens-before our use.
    if (ring::kind(st) == ring::free_entry &&
        e.state.compare_exchange_strong(st, ring::with_kind(st + 4, ring::joining), std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
      c.state = ring::with_kind(st + 4, ring::joining);
      break;
    }
  }
  if (i == max) {
    throw error(errc::too_many_subscribers,
                "all " + std::to_string(max) + " registry entries are live; raise options::max_subscribers");
  }
  // release: our entry is formatted before the publisher scans up to the new top.
  std::uint32_t top = l->joiners.top.load(std::memory_order_relaxed);
  while (top < i + 1 && !l->joiners.top.compare_exchange_weak(top, i + 1, std::memory_order_release,
                                                              std::memory_order_relaxed)) {
  }
  c.index = i;
  return c;
}

}  // namespace detail
}  // namespace ringwire::broadcast
