// ringwire/mpsc/storage.hpp -- the heap block an MPSC channel lives in.
//
// One aligned allocation holding [owner | layout | descriptors | lanes]. The receiver, every
// registrar copy and every sender each hold a reference (a sender's points at its lane's
// ring but counts on this block's owner); the last to let go destroys the elements still
// queued in every formatted lane (each exactly once) and frees the block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "ringwire/detail/counted_ref.hpp"
#include "ringwire/detail/heap_block.hpp"
#include "ringwire/mpsc/layout.hpp"
#include "ringwire/spsc/storage.hpp"

namespace ringwire::mpsc::detail {

using ringwire::detail::owner;

// Destroys the elements still queued in every formatted lane. Called by the last holder.
template <class T, class Sync>
void destroy_queued(layout<Sync>& l) noexcept {
  for (std::uint64_t i = 0; i < l.max_producers(); ++i) {
    // acquire: a registrar's format of the lane happens-before we read its ring (every
    // holder's last use already happens-before this, through the owner count).
    if (l.lane_descriptor(i).formatted.load(std::memory_order_acquire) != 0)
      spsc::detail::destroy_queued<T, Sync>(l.lane_ring(i));
  }
}

template <class T, class Sync>
using heap_block = ringwire::detail::heap_block<layout<Sync>, Sync, layout<Sync>::align(alignof(T)), &destroy_queued<T, Sync>>;

// Allocates and formats; the block holds `refs` references, `registrars` of them registrar
// handles.
template <class T, class Sync>
heap_block<T, Sync>* make_heap_block(std::uint64_t lane_capacity, std::uint64_t max_producers, std::uint64_t start_index,
                                     std::uint32_t refs, std::uint32_t registrars, bool latency = false,
                                     const memory_options& mem = {}) {
  const std::size_t bytes = layout<Sync>::footprint(lane_capacity, max_producers, sizeof(T), alignof(T), latency);
  return heap_block<T, Sync>::create(bytes, lane_capacity, refs, [&](void* at) {
    layout<Sync>::format(at, lane_capacity, max_producers, sizeof(T), alignof(T), start_index, registrars, latency);
  }, mem);
}

static_assert(std::is_standard_layout_v<layout<std_sync>>, "the layout must be able to live in any memory");

}  // namespace ringwire::mpsc::detail
