// ringwire/mpmc/storage.hpp -- who owns the memory an MPMC layout lives in.
//
// One storage today, the heap: one aligned allocation holding [owner | layout | cells],
// shared by a queue object or by every sender and receiver handle of a channel (and, later,
// a shared-memory segment instead). The last holder destroys the elements still queued,
// each exactly once, and frees the block. The reference count is touched only when a
// holder is made or dropped, never by a push or a pop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

#include "ringwire/detail/counted_ref.hpp"
#include "ringwire/detail/heap_block.hpp"
#include "ringwire/mpmc/layout.hpp"

namespace ringwire::mpmc::detail {

using ringwire::detail::owner;

// Destroys the elements between tail and head (skipping holes). Called by the last holder,
// when nobody can push or pop any more, so every claimed push has published its stamp.
template <class T, class Sync>
void destroy_queued(layout<Sync>& l) noexcept {
  if constexpr (!std::is_trivially_destructible_v<T>) {
    // acquire (all): every holder's last operation happens-before this teardown through
    // the owner count's acq_rel; these loads only need to see those values.
    const std::uint64_t head = l.producer.head.load(std::memory_order_acquire) & ~sealed_bit;
    const std::uint64_t cap = l.geometry.capacity;
    for (std::uint64_t t = l.consumer.tail.load(std::memory_order_acquire); t != head; ++t) {
      if ((l.stamp(t % cap).load(std::memory_order_acquire) & hole_bit) != 0) continue;
      std::launder(reinterpret_cast<T*>(l.payload(t % cap)))->~T();
    }
  }
}

template <class T, class Sync>
using heap_block = ringwire::detail::heap_block<layout<Sync>, Sync, layout<Sync>::align(alignof(T)), &destroy_queued<T, Sync>>;

// Allocates and formats a heap queue for T; the block holds `refs` references.
template <class T, class Sync>
heap_block<T, Sync>* make_heap_block(std::uint64_t capacity, std::uint32_t refs, cell_layout cells,
                                     const memory_options& mem = {}) {
  const std::size_t bytes = layout<Sync>::footprint(capacity, sizeof(T), alignof(T), cells);
  return heap_block<T, Sync>::create(bytes, capacity, refs, [&](void* at) {
    layout<Sync>::format(at, capacity, sizeof(T), alignof(T), cells);
  }, mem);
}

static_assert(std::is_standard_layout_v<layout<std_sync>>, "the layout must be able to live in any memory");

}  // namespace ringwire::mpmc::detail
